"""Beacon answers: a parsed request and a caller in, a schema-shaped response document out.

Access is decided by the node's one policy module: how far the caller reaches on each dataset
(`policy.dataset_level`) against the dataset's security level gives the granularity
(`policy.beacon_granularity`), and allele counts shown to a caller below CONTROLLED go through
the same small-count suppression as `/frequencies` (decided over every cell of each allele, with
the datasets the caller sees exactly treated as known).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select as sa_select

from genomenode.access import policy
from genomenode.access.disclosure import suppress_small_counts
from genomenode.access.duo import load_duo
from genomenode.access.gate import AccessControl
from genomenode.beacon import framework, records, responses
from genomenode.beacon.aminoacid import ProteinMatches, protein_matches
from genomenode.beacon.budget import NEGLIGIBLE, Ledger, disclosure_cost, spend
from genomenode.beacon.filters import (
    check_filters,
    filtering_resources,
    filtering_terms,
    matching_subjects,
    parse_filters,
)
from genomenode.beacon.framework import BeaconIdentity
from genomenode.beacon.request import BeaconRequest, Granularity, VariantQuery
from genomenode.beacon.responses import ResultSet
from genomenode.beacon.variants import VariantSearch, plan, record_bases, select, variant_type
from genomenode.catalog import models as m
from genomenode.catalog import sharing
from genomenode.catalog.beacon_ledger import CatalogLedger
from genomenode.catalog.phenotypes import subject_annotations
from genomenode.domain.assembly import Assembly, refseq_accessions
from genomenode.domain.protein_change import parse_protein_change
from genomenode.domain.variant import Region
from genomenode.errors import BeaconRequestError, NotFoundError, UnknownGeneError
from genomenode.query.service import NodeQueries
from genomenode.store.hpo import hpo_path, load_hpo

DUO_VERSION = "2021-02-23"  # the vendored duo-basic.owl release (access/data)


@dataclass(frozen=True)
class _DatasetView:
    """A dataset as this caller meets it."""

    name: str
    assembly: Assembly
    level: policy.Level
    reach: policy.Level
    granularity: Granularity

    @property
    def exact(self) -> bool:
        return self.reach is policy.Level.CONTROLLED


@dataclass(frozen=True)
class _CatalogSnapshot:
    """What every answer needs from the catalog, as of one policy version (ingest, consent,
    erasure and policy changes bump it): read once per version, not once per request."""

    version: int
    datasets: tuple[policy.DatasetFacts, ...]
    assemblies: dict[str, Assembly]
    people: dict[int, tuple[int, str]]  # sample → (subject, dataset): active samples of people not withdrawn


class BeaconService:
    def __init__(
        self, gate: AccessControl, queries: NodeQueries, identity: BeaconIdentity, *, ledger: Ledger | None = None
    ) -> None:
        self.gate = gate
        self.queries = queries
        self.identity = identity
        self.ledger: Ledger = ledger or CatalogLedger(gate.Session)
        self._snapshot: _CatalogSnapshot | None = None
        self._snapshot_lock = threading.Lock()
        # one caller's budget is read, spent and written by one request at a time (per process)
        self._budget_locks = [threading.Lock() for _ in range(64)]

    def _catalog(self) -> _CatalogSnapshot:
        with self.gate.engine.connect() as connection:
            version = sharing.policy_version(connection)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version:
            return snapshot
        with self._snapshot_lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.version == version:
                return snapshot
            # read after the version: what is read is at least as new as the version it is filed under
            with self.gate.Session() as s:
                rows = s.execute(
                    sa_select(m.Sample.id, m.Sample.subject_id, m.Dataset.name)
                    .join(m.Dataset, m.Dataset.id == m.Sample.dataset_id)
                    .where(m.Sample.status == "active")
                ).all()
                consents = sharing.current_consents(s, {subject for _, subject, _ in rows})
            gone = {subject for subject, c in consents.items() if c.status == "withdrawn"}
            snapshot = _CatalogSnapshot(
                version=version,
                datasets=tuple(self.gate.datasets()),
                assemblies={d.name: Assembly(d.assembly) for d in self.queries.datasets()},
                people={sample: (subject, name) for sample, subject, name in rows if subject not in gone},
            )
            self._snapshot = snapshot
            return snapshot

    # -- datasets as the caller meets them -------------------------------------------------
    def _views(self, caller: policy.Caller, only: str | None = None) -> list[_DatasetView]:
        catalog = self._catalog()
        assemblies = catalog.assemblies
        grants = self.gate.project_grants(caller) if not caller.anonymous else frozenset()
        views = []
        for facts in catalog.datasets:
            if facts.name not in assemblies or (only is not None and facts.name != only):
                continue
            reach = policy.dataset_level(caller, facts, project_grants=grants)
            granted = Granularity(policy.beacon_granularity(reach, facts.level))
            views.append(_DatasetView(facts.name, assemblies[facts.name], facts.level, reach, granted))
        if only is not None and not views:
            raise NotFoundError(f"no dataset {only!r}; GET /api/datasets lists them")
        return views

    # -- g_variants -----------------------------------------------------------------------
    def g_variants(
        self,
        caller: policy.Caller,
        request: BeaconRequest,
        *,
        dataset: str | None = None,
        variant_id: str | None = None,
        person: str | None = None,
    ) -> dict[str, Any]:
        """Alleles the request names, per dataset. With filters, an allele counts in a dataset only
        when someone there who matches them carries it (the frequencies shown stay the dataset's);
        with `person` (/individuals/{id}/g_variants), only that person's alleles, and only for a
        caller who may see them (anyone else reads exactly as for an id nobody has)."""
        filters = parse_filters(list(request.filters))
        hpo = load_hpo(hpo_path()) if filters or person is not None else None
        if filters and hpo is not None:
            check_filters(filters, hpo)
        views = self._views(caller, dataset)
        query = _query_for_id(variant_id) if variant_id is not None else request.variant
        if query.empty:
            raise BeaconRequestError(
                "g_variants needs variant parameters: referenceName and start with alternateBases "
                "(sequence), start and end (range), start=[a,b]&end=[c,d] (bracket) or geneId"
            )
        assembly = self._assembly(query, views)
        views = [v for v in views if v.assembly is assembly]
        search = plan(query, gene_region=self._gene_region(assembly, query))
        cells = self.queries.variant_cells(
            assembly=assembly.value, chrom=search.chrom, positions=search.positions, region=search.region
        )
        keep = select(cells, search)
        protein = self._protein_matches(assembly, search) if query.kind == "aminoacid" else None
        if protein is not None and cells.num_rows:  # from here on, the same path as any other query
            keep &= pc.is_in(_allele_ids(cells), pa.array(sorted(protein.alleles), pa.string())).to_numpy(
                zero_copy_only=False
            )
        matched = cells.filter(pa.array(keep)) if cells.num_rows else cells
        carried_by_chosen = None
        if hpo is not None and matched.num_rows:
            chosen = self._chosen(caller, filters, hpo, person)
            carried_by_chosen = self._carried_by(chosen, matched, assembly)
            if person is not None and chosen:  # someone the caller may see: their alleles as records
                views = [replace(v, granularity=Granularity.RECORD) for v in views]
            # keep every cell of those alleles (suppression decides over all of an allele's cells)
            carried = sorted({key.split(":", 1)[1] for key in carried_by_chosen})
            matched = matched.filter(pc.is_in(_allele_ids(matched), pa.array(carried, pa.string())))
        if self.gate.settings.beacon_budget > 0 and matched.num_rows:
            matched = self._within_budget(caller, matched, views, assembly)
        floor = self.gate.settings.small_count_floor
        if floor > 1 and matched.num_rows and not all(v.exact for v in views):
            matched = suppress_small_counts(matched, floor=floor, exact_scopes=[v.name for v in views if v.exact])
        attributes = {k: hit.molecular_attributes() for k, hit in protein.alleles.items()} if protein else None
        sets = [
            self._variant_set(v, matched, request, assembly, only=carried_by_chosen, attributes=attributes)
            for v in views
        ]
        warnings = (
            protein.warnings(gene=search.gene or "", chrom=search.chrom, assembly=assembly.value) if protein else []
        )
        return responses.response(self.identity, request, sets, info={"warnings": warnings} if warnings else None)

    def _protein_matches(self, assembly: Assembly, search: VariantSearch) -> ProteinMatches:
        """Alleles in the gene's span whose stored annotation gives the asked protein change (beacon.aminoacid)."""
        query = search.query
        assert query.amino_acid_change is not None and query.gene_id is not None and search.region is not None
        change = parse_protein_change(query.amino_acid_change)  # checked when the request was read
        groups = self.queries.annotated_alleles(
            assembly=assembly.value, region=search.region, info_contains=[str(change.position)]
        )
        return protein_matches(groups, chrom=search.chrom, gene=query.gene_id, change=change)

    def _chosen(self, caller: policy.Caller, filters: list[Any], hpo: Any, person: str | None) -> set[int]:
        """Subjects matching the filters, narrowed to `person` when the caller may see them (audited)."""
        with self.gate.Session() as s:
            people = [a for a in subject_annotations(s) if a.consent_status != "withdrawn"]
        chosen = matching_subjects(filters, people, hpo)
        if person is None:
            return chosen
        visible = {i.row.pseudonym for i in self.gate.individuals(caller)} if not caller.anonymous else set()
        if person not in visible:
            return set()
        self.gate.record(caller, "read.genotypes", target=person, via="beacon")  # before anything leaves
        return chosen & {a.subject_id for a in people if a.pseudonym == person}

    def _carried_by(self, chosen: set[int], matched: pa.Table, assembly: Assembly) -> set[str]:
        """`<dataset>:<allele>` keys of the alleles one of `chosen` carries in that dataset."""
        chrom = matched["chrom"][0].as_py()
        carriers = self.queries.carriers(
            assembly=assembly.value, chrom=chrom, positions=sorted(set(matched["pos"].to_pylist()))
        )
        people_of = self._people_of(carriers["sample"].to_pylist())
        out = set()
        columns = (carriers[c].to_pylist() for c in ("pos", "ref", "alt", "sample"))
        for pos, ref, alt, sample in zip(*columns, strict=True):
            subject, dataset = people_of.get(sample, (None, ""))
            if subject in chosen:
                out.add(f"{dataset}:{chrom}-{pos}-{ref}-{alt}")
        return out

    def _within_budget(
        self, caller: policy.Caller, matched: pa.Table, views: Sequence[_DatasetView], assembly: Assembly
    ) -> pa.Table:
        """`matched` without the rare alleles whose carriers have spent this caller's budget on
        them (beacon.budget); the disclosures made are written to the ledger. Callers who see a
        dataset exactly (CONTROLLED) are not limited there."""
        limited = [v.name for v in views if not v.exact]
        if not limited:
            return matched
        keys = _allele_keys(matched)
        overall = pc.and_(
            pc.is_in(matched["scope"], pa.array(limited, pa.string())), pc.equal(matched["stratum"], "all")
        )
        present = matched.filter(pc.and_(overall, pc.greater(matched["ac"], 0)))
        if not present.num_rows:
            return matched
        costs = disclosure_cost(present["ac"].to_numpy(), present["an"].to_numpy())
        rare = present.filter(pa.array(costs >= NEGLIGIBLE))
        if not rare.num_rows:
            return matched
        rare_costs = costs[costs >= NEGLIGIBLE]
        chrom = rare["chrom"][0].as_py()
        carriers = self.queries.carriers(
            assembly=assembly.value, chrom=chrom, positions=sorted(set(rare["pos"].to_pylist()))
        )
        people = self._people_of(carriers["sample"].to_pylist())
        by_key: dict[str, list[int]] = {}
        for pos, ref, alt, sample in zip(
            *(carriers[c].to_pylist() for c in ("pos", "ref", "alt", "sample")), strict=True
        ):
            if sample in people:
                subject, dataset = people[sample]
                by_key.setdefault(f"{dataset}:{chrom}-{pos}-{ref}-{alt}", []).append(subject)
        rare_keys = _allele_keys(rare).to_pylist()
        subjects = {s for key in rare_keys for s in by_key.get(key, [])}
        with self._budget_locks[hash(caller.actor) % len(self._budget_locks)]:
            spent, disclosed = self.ledger.state(caller.actor, subjects, rare_keys)
            outcome = spend(
                rare_keys, rare_costs, by_key, spent=spent, disclosed=disclosed, budget=self.gate.settings.beacon_budget
            )
            self.ledger.record(caller.actor, outcome.charges)
        withheld = [k for k, shown in zip(rare_keys, outcome.shown, strict=True) if not shown]
        if not withheld:
            return matched
        return matched.filter(pc.invert(pc.is_in(keys, pa.array(withheld, pa.string()))))

    def _people_of(self, samples: Sequence[int]) -> dict[int, tuple[int, str]]:
        """sample → (subject, dataset) for the active samples of people not withdrawn or erased."""
        people = self._catalog().people
        return {sample: people[sample] for sample in samples if sample in people}

    def _assembly(self, query: VariantQuery, views: Sequence[_DatasetView]) -> Assembly:
        genic = query.kind in ("gene", "aminoacid")
        search = plan(query, gene_region=Region("chr1", 1, 1)) if genic else plan(query)
        if search.assembly is not None:
            return search.assembly
        held = sorted({v.assembly for v in views})
        if len(held) > 1:
            raise BeaconRequestError(
                f"this node holds {' and '.join(held)} datasets: give assemblyId so coordinates mean one thing"
            )
        return held[0] if held else Assembly.GRCh38

    def _gene_region(self, assembly: Assembly, query: VariantQuery) -> Region | None:
        if query.kind not in ("gene", "aminoacid") or query.gene_id is None:
            return None
        try:
            return self.queries.gene_region(assembly.value, query.gene_id)
        except UnknownGeneError as e:
            raise BeaconRequestError(f"geneId {query.gene_id!r}: {e}") from None

    def _variant_set(
        self,
        view: _DatasetView,
        matched: pa.Table,
        request: BeaconRequest,
        assembly: Assembly,
        *,
        only: set[str] | None = None,
        attributes: dict[str, dict[str, Any]] | None = None,
    ) -> ResultSet:
        """One dataset's answer; `only`: the `<dataset>:<allele>` keys that count (filtered queries);
        `attributes`: allele id → the molecularAttributes its records carry (aminoacidChange hits)."""
        mine = matched.filter(pc.equal(matched["scope"], view.name)) if matched.num_rows else matched
        overall = mine.filter(pc.equal(mine["stratum"], "all")) if mine.num_rows else mine
        if only is not None and overall.num_rows:
            overall = overall.filter(pc.is_in(_allele_keys(overall), pa.array(sorted(only), pa.string())))
        if overall.num_rows:
            # present in this dataset: carried by someone (the suppressed ac is null, the store's is > 0)
            carried = pc.or_kleene(pc.is_null(overall["ac"]), pc.greater(overall["ac"], 0))
            overall = overall.filter(carried)
        overall = overall.sort_by([("pos", "ascending"), ("ref", "ascending"), ("alt", "ascending")])
        count = overall.num_rows
        granted = view.granularity.at_most(request.granularity)
        results: list[dict[str, Any]] = []
        if granted is Granularity.RECORD and count:
            page = overall.slice(request.offset, request.page_limit)
            results = _variant_records(page, mine, view, assembly, self.identity, attributes or {})
        return ResultSet(
            id=view.name,
            exists=count > 0,
            count=count if granted is not Granularity.BOOLEAN else None,
            granularity=granted,
            results=results,
        )

    # -- individuals ----------------------------------------------------------------------
    def individuals(
        self,
        caller: policy.Caller,
        request: BeaconRequest,
        *,
        dataset: str | None = None,
        variant_id: str | None = None,
        centre: str | None = None,
        kind: str = "individuals",
        record_id: str | None = None,
    ) -> dict[str, Any]:
        """People matching the filters (and carrying `variant_id`, for /g_variants/{id}/individuals;
        submitted by `centre`, for a cohort), per dataset; `kind` biosamples, runs or analyses
        answers with those people's samples, sequencing runs or variant-calling analyses instead.

        Counts below CONTROLLED are rounded up to a multiple of the small-count floor; records go
        only to callers who may see each person's individual-level data (policy), and each read is
        audited before it leaves."""
        views = self._views(caller, dataset)
        hpo = load_hpo(hpo_path())
        filters = parse_filters(list(request.filters))
        check_filters(filters, hpo)
        with self.gate.Session() as s:
            people = [a for a in subject_annotations(s) if a.consent_status != "withdrawn"]
            samples = records.sample_rows(s) if kind != "individuals" else []
        chosen = matching_subjects(filters, people, hpo)
        if variant_id is not None:
            chosen &= self._carriers_of(caller, variant_id, views)
        if centre is not None:
            chosen &= {a.subject_id for a in people if centre in a.centres}
        by_subject = {a.subject_id: a for a in people}
        visible = {i.row.pseudonym for i in self.gate.individuals(caller)} if not caller.anonymous else set()
        if record_id is not None:
            # one record: only someone this caller may see; anyone else reads exactly as no one (OWASP API1)
            chosen &= {a.subject_id for a in people if a.pseudonym in visible}
            if kind == "individuals":
                chosen &= {a.subject_id for a in people if a.pseudonym == record_id}
            else:
                samples = [r for r in samples if records.record_id(kind, r) == record_id]
        floor = self.gate.settings.small_count_floor
        sets, shown_ids = [], []
        for view in views:
            members = [a for a in people if a.subject_id in chosen and view.name in a.datasets]
            items: list[Any] = members if kind == "individuals" else [
                r for r in samples if r.subject_id in chosen and r.dataset == view.name
                and (centre is None or r.centre == centre)
            ]  # fmt: skip
            owner = {id(item): by_subject[item.subject_id].pseudonym for item in items}
            items.sort(key=lambda item: (owner[id(item)], getattr(item, "sample", 0)))
            allowed = view.granularity
            if any(owner[id(item)] in visible for item in items):
                allowed = Granularity.RECORD  # a clinician's own patients: records of those, counts of the rest
            granted = allowed.at_most(request.granularity)
            count, precision = len(items), "exact"
            if not view.exact and floor > 1 and count % floor:
                count, precision = count + floor - count % floor, "rounded"
            results: list[dict[str, Any]] = []
            if granted is Granularity.RECORD:
                page = [item for item in items if owner[id(item)] in visible][request.offset :][: request.page_limit]
                results = [records.record(kind, item, by_subject[item.subject_id], hpo) for item in page]
                shown_ids += [owner[id(item)] for item in page]
            sets.append(ResultSet(view.name, bool(items), count if granted is not Granularity.BOOLEAN else None,
                                  granted, results, count_precision=precision))  # fmt: skip
        for pseudonym in sorted(set(shown_ids)):  # one entry per person: "who saw this person" has an answer
            self.gate.record(caller, "read.individual", target=pseudonym, via=f"beacon {kind}")
        return responses.response(self.identity, request, sets)

    def cohorts(self, caller: policy.Caller, request: BeaconRequest, *, cohort: str | None = None) -> dict[str, Any]:
        """The regional centres' cohorts: who submitted the people, with their size (rounded below
        CONTROLLED on every dataset, as counts of people are)."""
        views = self._views(caller)
        with self.gate.Session() as s:
            people = [a for a in subject_annotations(s) if a.consent_status != "withdrawn"]
        exact = bool(views) and all(v.exact for v in views)
        sizes: dict[str, int] = {}
        for a in people:
            for c in a.centres:
                sizes[c] = sizes.get(c, 0) + 1
        if cohort is not None and cohort not in sizes:
            raise NotFoundError(f"no cohort {cohort!r}; GET /api/cohorts lists them")
        names = [cohort] if cohort is not None else sorted(sizes)
        floor = self.gate.settings.small_count_floor
        items = [records.cohort(name, sizes[name], floor=None if exact else floor) for name in names]
        page = items[request.offset : request.offset + request.page_limit]
        return responses.collections(self.identity, request, page, total=len(items))

    def _carriers_of(self, caller: policy.Caller, variant_id: str, views: Sequence[_DatasetView]) -> set[int]:
        """Subjects carrying the allele `variant_id` (chrom-pos-ref-alt) in the datasets in view."""
        query = _query_for_id(variant_id)
        assembly = self._assembly(query, views)
        search = plan(query)
        cells = self.queries.variant_cells(assembly=assembly.value, chrom=search.chrom, positions=search.positions)
        matched = cells.filter(pa.array(select(cells, search))) if cells.num_rows else cells
        if not matched.num_rows:
            return set()
        carriers = self.queries.carriers(assembly=assembly.value, chrom=search.chrom, positions=search.positions)
        wanted = {(r["pos"], r["ref"], r["alt"]) for r in matched.select(["pos", "ref", "alt"]).to_pylist()}
        samples = [r["sample"] for r in carriers.to_pylist() if (r["pos"], r["ref"], r["alt"]) in wanted]
        return {subject for subject, _ in self._people_of(samples).values()}

    def filtering_terms(self) -> dict[str, Any]:
        hpo = load_hpo(hpo_path())
        with self.gate.Session() as s:
            people = subject_annotations(s)
        return {
            "meta": framework.informational_meta(self.identity),
            "response": {"filteringTerms": filtering_terms(people, hpo), "resources": filtering_resources(hpo)},
        }

    # -- datasets -------------------------------------------------------------------------
    def datasets(self, caller: policy.Caller, request: BeaconRequest, *, dataset: str | None = None) -> dict[str, Any]:
        views = self._views(caller, dataset)
        summaries = {d.name: d for d in self.queries.datasets()}
        facts = {d.name: d for d in self.gate.datasets()}
        items = []
        for v in views[request.offset : request.offset + request.page_limit]:
            s = summaries[v.name]
            item: dict[str, Any] = {
                "id": v.name,
                "name": v.name,
                "createDateTime": s.created_at.isoformat(),
                "info": {
                    "assembly": v.assembly.value,
                    "securityLevel": v.level.name,
                    "yourAccess": v.reach.name,
                    "maxGranularity": v.granularity.value,
                },
            }
            if facts[v.name].data_use is not None:
                item["dataUseConditions"] = _data_use(facts[v.name])
            items.append(item)
        return responses.collections(self.identity, request, items, total=len(views))


def _data_use(facts: policy.DatasetFacts) -> dict[str, Any]:
    """The dataset's conditions as Beacon's `dataUseConditions.duoDataUse` (DUO ids with labels)."""
    use = facts.data_use
    assert use is not None
    duo = load_duo()
    term = duo.term(use.permission)
    entry: dict[str, Any] = {"id": term.id, "label": term.name, "version": DUO_VERSION}
    modifiers = [{"id": m, "label": duo.term(m).name} for m in sorted(use.modifiers)]
    if modifiers:
        entry["modifiers"] = modifiers
    return {"duoDataUse": [entry]}


def _allele_ids(cells: pa.Table) -> pa.ChunkedArray:
    """Each row's `<chrom>-<pos>-<ref>-<alt>`, the id g_variants records carry."""
    pos = pc.cast(cells["pos"], pa.string())
    return pc.binary_join_element_wise(cells["chrom"], pos, cells["ref"], cells["alt"], "-")


def _allele_keys(cells: pa.Table) -> pa.ChunkedArray:
    """Each row's `<scope>:<chrom>-<pos>-<ref>-<alt>`: an allele in one dataset, as the ledger names it."""
    return pc.binary_join_element_wise(cells["scope"], _allele_ids(cells), ":")


def _query_for_id(variant_id: str) -> VariantQuery:
    """`chr22-40000100-A-G` (the id g_variants records carry) as a sequence query."""
    parts = variant_id.split("-")
    if len(parts) != 4 or not parts[1].isdigit():
        raise NotFoundError(f"no variant {variant_id!r}: ids look like chr22-40000100-A-G")
    chrom, pos, ref, alt = parts
    return VariantQuery(reference_name=chrom, start=(int(pos) - 1,), reference_bases=ref, alternate_bases=alt)


def _variant_records(
    page: pa.Table,
    cells: pa.Table,
    view: _DatasetView,
    assembly: Assembly,
    identity: BeaconIdentity,
    attributes: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Records for the alleles on `page`, each with its frequencies in this dataset (all and per
    population) as far as suppression lets them be shown, and `attributes` (allele id → molecular
    attributes) where it names the allele."""
    by_allele: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    populations = cells.filter(pc.is_in(cells["stratum"], pa.array(["all", "population"])))
    for row in populations.to_pylist():
        by_allele.setdefault((row["pos"], row["ref"], row["alt"]), []).append(row)
    accession = refseq_accessions(assembly)
    out = []
    for r in page.to_pylist():
        chrom, pos, ref, alt = r["chrom"], r["pos"], r["ref"], r["alt"]
        cells_here = sorted(by_allele.get((pos, ref, alt), []), key=_population_order)
        frequencies = [_frequency(c) for c in cells_here if c["ac"] is not None]
        record: dict[str, Any] = {
            "variantInternalId": f"{chrom}-{pos}-{ref}-{alt}",
            "variation": {
                "variantType": variant_type(ref, alt),
                "referenceBases": ref,
                "alternateBases": record_bases(alt),
                "location": {
                    "type": "SequenceLocation",
                    "sequence_id": f"refseq:{accession.get(chrom, chrom)}",
                    "interval": {
                        "type": "SequenceInterval",
                        "start": {"type": "Number", "value": pos - 1},
                        "end": {"type": "Number", "value": pos - 1 + len(ref)},
                    },
                },
            },
        }
        if r.get("rsid"):
            record["identifiers"] = {"variantAlternativeIds": [{"id": f"dbSNP:{r['rsid']}", "label": r["rsid"]}]}
        if record["variantInternalId"] in attributes:
            record["molecularAttributes"] = attributes[record["variantInternalId"]]
        if frequencies:
            record["frequencyInPopulations"] = [
                {
                    "source": f"{identity.name}, dataset {view.name}",
                    "sourceReference": f"{identity.api_url}/datasets/{view.name}",
                    "version": assembly.value,
                    "frequencies": frequencies,
                }
            ]
        out.append(record)
    return out


def _population_order(cell: dict[str, Any]) -> tuple[int, str]:
    return (0 if cell["stratum"] == "all" else 1, cell["stratum_value"])


def _frequency(cell: dict[str, Any]) -> dict[str, Any]:
    ac, an = cell["ac"], cell["an"]
    return {
        "population": "all" if cell["stratum"] == "all" else cell["stratum_value"] or "unknown",
        "alleleFrequency": ac / an if an else 0.0,
        "alleleCount": ac,
        "alleleNumber": an,
        **({"alleleCountHomozygous": cell["hom"]} if cell["hom"] is not None else {}),
        **({"alleleCountHemizygous": cell["hemi"]} if cell["hemi"] is not None else {}),
    }
