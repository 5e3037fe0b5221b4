"""PGx on the national database: one stored sample's report, and phenotype frequencies for all.

A sample is named as its centre submitted it (the VCF column) or by the person's node pseudonym.
Who may read a report is the node's one rule for individual-level data (`AccessControl.individual`:
a clinician of the person's region, or a steward); a sample the caller may not see reads exactly
like one that does not exist, and the denial is audited. Before any genotype is read, one
`read.pgx` audit entry is written; if it cannot be, nothing is read. The node's operator at the
console (the CLI without a token), who holds the data directory itself, is let through and
audited as such.

The summary counts each person once (their newest GRCh38 sample), leaves out people whose
consent was withdrawn (their call groups carry an exclusion), and hides small counts for callers
who may not see individuals (`pgx.summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.catalog import models as m
from genomenode.domain.assembly import Assembly
from genomenode.errors import AuthenticationError, NotFoundError, PgxError, listing
from genomenode.ingest.outside_calls import OutsideCall
from genomenode.pgx.batch import Person, Progress, call_people
from genomenode.pgx.calling import call_sample
from genomenode.pgx.knowledge import PgxKnowledge, knowledge
from genomenode.pgx.summary import PersonPhenotypes, summarise
from genomenode.pipeline.export import authorise_export
from genomenode.query.pgx import PgxSite
from genomenode.query.service import NodeQueries


@dataclass(frozen=True)
class StoredPerson:
    sample: int  # catalog id (the store's code)
    name: str  # as the centre submitted it
    dataset: str
    assembly: str
    pseudonym: str
    region: str
    population: str


def _rows(gate: AccessControl, *, name: str | None = None, dataset: str | None = None) -> list[StoredPerson]:
    query = (
        select(m.Sample.id, m.Sample.sample_id, m.Dataset.name, m.Dataset.assembly, m.Subject.pseudonym)
        .add_columns(m.Centre.region, m.Sample.population)
        .join(m.Dataset, m.Dataset.id == m.Sample.dataset_id)
        .join(m.Subject, m.Subject.id == m.Sample.subject_id)
        .join(m.Centre, m.Centre.id == m.Sample.centre_id)
        .where(m.Sample.status == "active")
        .order_by(m.Sample.id)
    )
    if name is not None:
        query = query.where((m.Sample.sample_id == name) | (m.Subject.pseudonym == name))
    if dataset is not None:
        query = query.where(m.Dataset.name == dataset)
    with gate.Session() as s:
        return [
            StoredPerson(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), r[5] or "", r[6] or "")
            for r in s.execute(query).all()
        ]


def find_sample(gate: AccessControl, sample_id: str, *, dataset: str | None = None) -> StoredPerson:
    """The active GRCh38 sample named `sample_id` (or of the person with that pseudonym)."""
    found = [r for r in _rows(gate, name=sample_id, dataset=dataset) if r.assembly == Assembly.GRCh38.value]
    if not found:
        raise NotFoundError(f"no sample {sample_id!r} on GRCh38" + (f" in dataset {dataset}" if dataset else ""))
    if len({r.dataset for r in found}) > 1:
        names = sorted({r.dataset for r in found})
        raise PgxError(f"sample {sample_id!r} is in datasets {listing(names)}; choose one with --dataset")
    return found[-1]


def sites(k: PgxKnowledge) -> list[PgxSite]:
    return [PgxSite(s.chrom, s.position, s.ref) for s in k.sites.by_key.values()]


def pgx_for_stored(
    gate: AccessControl,
    queries: NodeQueries,
    caller: policy.Caller,
    sample_id: str,
    *,
    dataset: str | None = None,
    outside_calls: Sequence[OutsideCall] = (),
    console: bool = False,
    request_id: str | None = None,
    k: PgxKnowledge | None = None,
) -> dict[str, Any]:
    """The report of a stored sample, for a caller policy lets see the person (or the console)."""
    if caller.anonymous and not console:
        raise AuthenticationError("a PGx report needs a token: set $GENOMENODE_TOKEN or pass --token-file")
    try:
        person = find_sample(gate, sample_id, dataset=dataset)
        if not console:
            gate.individual(caller, person.pseudonym)
    except NotFoundError:
        raise NotFoundError(f"no sample {sample_id!r} on GRCh38 that you may see") from None
    gate.record(
        caller,
        "read.pgx",
        target=person.pseudonym,
        request_id=request_id,
        sample=person.name,
        dataset=person.dataset,
        via="console" if console else None,
    )
    k = k or knowledge()
    observed = queries.pgx_genotypes(assembly=person.assembly, samples=[person.sample], sites=sites(k))
    report = call_sample(
        k,
        observed.get(person.sample, []),
        sample=person.name,
        outside_calls=outside_calls,
        source=f"national database, dataset {person.dataset}",
    )
    return {**report, "dataset": person.dataset, "individual": person.pseudonym}


def people_in_summary(gate: AccessControl, *, dataset: str | None = None) -> list[StoredPerson]:
    """One GRCh38 sample per person (the newest), people with withdrawn consent left out."""
    with gate.Session() as s:
        excluded = set(
            s.scalars(select(m.CallGroup.excludes_sample_id).where(m.CallGroup.excludes_sample_id.is_not(None)))
        )
    newest: dict[str, StoredPerson] = {}
    for row in _rows(gate, dataset=dataset):
        if row.assembly == Assembly.GRCh38.value and row.sample not in excluded:
            newest[row.pseudonym] = row  # rows come in id order: the last is the newest
    return list(newest.values())


def pgx_calls(
    gate: AccessControl,
    queries: NodeQueries,
    caller: policy.Caller,
    *,
    dataset: str | None = None,
    console: bool = False,
    progress: Progress | None = None,
) -> pa.Table:
    """Every person's PGx calls (pgx.batch.CALLS_SCHEMA, by pseudonym): individual-level, so a data
    steward's (or the operator's at the console), audited before any genotype is read."""
    if dataset is not None and dataset not in {d.name for d in queries.datasets()}:
        raise NotFoundError(f"no dataset {dataset!r}; `genomenode datasets` lists them")
    people = people_in_summary(gate, dataset=dataset)
    authorise_export(gate, caller, "export.pgx_calls", console=console, dataset=dataset, people=len(people))
    return call_people(queries, [_person(p) for p in people], sites(knowledge()), progress=progress)


def _person(p: StoredPerson) -> Person:
    return Person(p.sample, p.name, p.pseudonym, p.dataset, p.region, p.population)


def pgx_summary(
    gate: AccessControl,
    queries: NodeQueries,
    caller: policy.Caller,
    *,
    dataset: str | None = None,
    k: PgxKnowledge | None = None,
) -> dict[str, Any]:
    """Phenotype counts and frequencies per gene, nation-wide and per region and population.
    Exact for a steward; small counts hidden (linked-cell suppression) for everyone else."""
    k = k or knowledge()
    if dataset is not None and dataset not in {d.name for d in queries.datasets()}:
        raise NotFoundError(f"no dataset {dataset!r}; `genomenode datasets` lists them")
    people = people_in_summary(gate, dataset=dataset)
    calls = call_people(queries, [_person(p) for p in people], sites(k)).to_pylist()
    phenotypes: dict[str, dict[str, str | None]] = {}
    for row in calls:
        phenotypes.setdefault(row["individual"], {})[row["gene"]] = row["phenotype"]
    entries = [PersonPhenotypes(p.region, p.population, phenotypes.get(p.pseudonym, {})) for p in people]
    exact = caller.has(policy.Role.STEWARD)
    genes = [g for g in k.definitions if g in k.phenotypes]
    result = summarise(entries, genes, floor=gate.settings.small_count_floor, exact=exact)
    gate.record(caller, "read.pgx_summary", target=dataset or "node", people=len(entries), exact=exact)
    return {"dataset": dataset, "reference": k.version, **result}
