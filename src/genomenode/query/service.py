"""The node's read side: one object the CLI, the API (and later Beacon) ask for answers.

It resolves what the caller named (dataset, gene, region) into the store's live files, using the
catalog as the list of what is committed, so a query never reads half an ingest. Access control
(issue 3) wraps this service; nothing here knows about HTTP or the terminal.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy.engine import Engine

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.domain.observed import ObservedGenotype
from genomenode.domain.variant import Region, Variant, parse_variant
from genomenode.errors import InputError, NotFoundError
from genomenode.query.annotations import AnnotatedAlleles, annotated_alleles
from genomenode.query.family import FamilyCalls, family_calls
from genomenode.query.frequencies import (
    BY_CHOICES,
    FrequencyRow,
    cells_at,
    cells_in_region,
    frequencies_in_region,
    variant_strata,
)
from genomenode.query.genotypes import carriers_at, genotypes_in_region
from genomenode.query.pgx import PgxSite, observed_for_samples, stored_samples
from genomenode.settings import Settings
from genomenode.store.engine import Parts, StoreEngine, open_engine
from genomenode.store.genes import Gene, find_gene

_KEPT_POSITIONS = 50_000  # positions whose carriers stay in memory (least recently asked go first)
_KEPT_CARRIERS_PER_POSITION = 64  # kept only when this few: rare alleles, what the budget asks about


@dataclass(frozen=True)
class FrequencyAnswer:
    assembly: str
    scope: str
    region: Region
    gene: Gene | None
    by: str | None
    pass_only: bool
    rows: list[FrequencyRow]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document the API and `frequencies --format json` both return."""
        return {
            "assembly": self.assembly,
            "scope": "national" if self.scope == "*" else self.scope,
            "region": str(self.region),
            "gene": self.gene.symbol if self.gene else None,
            "by": self.by,
            "pass_only": self.pass_only,
            "variants": [r.as_dict(self.by) for r in self.rows],
        }


@dataclass(frozen=True)
class _CatalogState:
    """What readers need from the catalog, as of one committed run."""

    version: int
    datasets: list[repo.DatasetSummary]
    stats_files: dict[tuple[str, str], list[Path]]  # (assembly, chrom) → live variant_stats parts
    calls_files: dict[tuple[str, str], list[Path]]  # (assembly, chrom) → live calls parts
    variants_files: dict[tuple[str, str], list[Path]]  # (assembly, chrom) → live variants parts
    coverage_files: dict[tuple[str, str], list[Path]]  # (assembly, chrom) → live coverage parts


class NodeQueries:
    """Thread-safe: the engine runs each query on its own (DuckDB cursor, Spark job); the catalog
    state is swapped whole. The engine (`settings.engine`) is DuckDB or Spark: same parts, same answers."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self._owns_engine = engine is None
        self.engine = engine or open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
        self.Session = session_factory(self.engine)
        self.store_engine: StoreEngine = open_engine(
            settings.engine,
            threads=settings.query_threads,
            spark_master=settings.spark_master,
            spark_conf=settings.spark_conf,
        )
        self._state: _CatalogState | None = None
        self._lock = threading.Lock()
        self._carriers_kept: OrderedDict[tuple[int, str, str, int], pa.Table] = OrderedDict()

    def close(self) -> None:
        self.store_engine.close()
        if self._owns_engine:
            self.engine.dispose()

    def _current(self) -> _CatalogState:
        """The catalog as of its last committed run; re-read only when a new run has committed.

        One indexed SELECT per query keeps readers exact (a commit is visible to the next
        request) without re-listing datasets and parts every time.
        """
        with self.engine.connect() as connection:
            version = int(connection.execute(repo.LATEST_RUN).scalar() or 0)
        state = self._state
        if state is not None and state.version == version:
            return state
        with self.Session() as s:
            files: dict[str, dict[tuple[str, str], list[Path]]] = {
                "variant_stats": {},
                "calls": {},
                "variants": {},
                "coverage": {},
            }
            for table, by_chrom in files.items():
                for f in repo.live_store_files(s, table_name=table):
                    by_chrom.setdefault((f.assembly, f.chrom), []).append(self.settings.store_root / f.path)
            state = _CatalogState(
                version,
                repo.list_datasets(s),
                files["variant_stats"],
                files["calls"],
                files["variants"],
                files["coverage"],
            )
        with self._lock:
            self._state = state
        return state

    def __enter__(self) -> NodeQueries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is here -----------------------------------------------------------------------
    def datasets(self) -> list[repo.DatasetSummary]:
        return list(self._current().datasets)

    def _scope(self, state: _CatalogState, dataset: str | None) -> tuple[str, Assembly]:
        if dataset is not None:
            found = next((d for d in state.datasets if d.name == dataset), None)
            if found is None:
                names = ", ".join(d.name for d in state.datasets) or "none yet"
                raise NotFoundError(f"no dataset {dataset!r} (datasets: {names})")
            return dataset, Assembly(found.assembly)
        assemblies = {d.assembly for d in state.datasets}
        if not assemblies:
            raise NotFoundError("the node holds no data yet; ingest VCFs with `genomenode ingest` first")
        if len(assemblies) > 1:
            raise InputError(
                f"datasets hold different assemblies ({', '.join(sorted(assemblies))}); name one with --dataset"
            )
        return "*", Assembly(assemblies.pop())

    # -- answers ----------------------------------------------------------------------------
    def frequencies(
        self,
        *,
        region: Region | None = None,
        gene: str | None = None,
        dataset: str | None = None,
        by: str | None = None,
        pass_only: bool = False,
        floor: int | None = None,
    ) -> FrequencyAnswer:
        """`floor`: hide counts below it, as policy.suppression_floor decides for the caller."""
        if (region is None) == (gene is None):
            raise InputError("give exactly one of --region or --gene")
        if by is not None and by not in BY_CHOICES:
            raise InputError(f"--by {by!r}: choose one of {', '.join(BY_CHOICES)}")
        state = self._current()
        scope, assembly = self._scope(state, dataset)
        found_gene = None
        if gene is not None:
            found_gene = find_gene(assembly, gene)
            region = Region(found_gene.chrom, found_gene.start, found_gene.end)
        assert region is not None
        rows = frequencies_in_region(
            self.store_engine,
            state.stats_files.get((assembly.value, region.chrom), []),
            region,
            scope=scope,
            by=by,
            pass_only=pass_only,
            floor=floor,
        )
        return FrequencyAnswer(assembly.value, scope, region, found_gene, by, pass_only, rows)

    def variant(
        self, variant: Variant | str, *, dataset: str | None = None, floor: int | None = None
    ) -> dict[str, Any]:
        v = parse_variant(variant) if isinstance(variant, str) else variant
        state = self._current()
        scope, assembly = self._scope(state, dataset)
        rows = variant_strata(self.store_engine, state.stats_files.get((assembly.value, v.chrom), []), v, floor=floor)
        if scope != "*":
            rows = [r for r in rows if r["scope"] == scope]
        if not rows:
            raise NotFoundError(
                f"variant {v} is not in the {'national database' if scope == '*' else scope} ({assembly.value})"
            )
        overall = next(r for r in rows if r["scope"] == scope and r["stratum"] == "all")
        strata: dict[str, list[dict[str, Any]]] = {}
        datasets: list[dict[str, Any]] = []
        for r in rows:
            entry = {k: r[k] for k in ("ac", "an", "af", "hom", "hemi", "suppressed")}
            if r["scope"] == scope and r["stratum"] != "all":
                strata.setdefault(r["stratum"], []).append({r["stratum"]: r["stratum_value"], **entry})
            elif scope == "*" and r["scope"] != "*" and r["stratum"] == "all":
                datasets.append({"dataset": r["scope"], **entry})
        return {
            "variant_id": v.id,
            "chrom": v.chrom,
            "pos": v.pos,
            "ref": v.ref,
            "alt": v.alt,
            "assembly": assembly.value,
            "scope": "national" if scope == "*" else scope,
            "rsid": overall["rsid"],
            "filters": overall["filters"].split(";") if overall["filters"] else [],
            "n_files": overall["n_files"],
            **{k: overall[k] for k in ("ac", "an", "af", "hom", "hemi", "suppressed")},
            "datasets": datasets,
            "strata": strata,
        }

    def genotypes(self, *, assembly: str, region: Region, samples: Mapping[int, str]) -> list[dict[str, Any]]:
        """Stored calls of `samples` (store code → name shown) in `region`. Individual-level:
        only ever called after access control allowed it and the audit entry was written."""
        state = self._current()
        files = state.calls_files.get((assembly, region.chrom), [])
        return genotypes_in_region(self.store_engine, files, region, samples=samples)

    def family_calls(self, *, assembly: str, samples: Sequence[int]) -> FamilyCalls:
        """Every stored call of `samples` (catalog sample ids of one assembly), all chromosomes,
        with each allele's record (INFO, FILTER, source record) and nation-wide counts
        (query.family). Individual-level: only ever called for a case after access control
        allowed every member and one audit entry per member was written."""
        files = self.live_parts(assembly)
        return family_calls(
            self.store_engine,
            calls_files=files["calls"],
            variants_files=files["variants"],
            stats_files=files["variant_stats"],
            samples=samples,
            contigs=list(contig_lengths(Assembly(assembly))),
        )

    def pgx_genotypes(
        self, *, assembly: str, samples: Sequence[int], sites: Sequence[PgxSite]
    ) -> dict[int, list[ObservedGenotype]]:
        """Each sample's genotypes (catalog ids → records as written) at the PGx `sites`
        (query.pgx: hom-ref only where its file had a record or a gVCF block). Individual-level:
        called only after access control allowed the person and the read was audited."""
        files = self.live_parts(assembly, {s.chrom for s in sites})
        with self.Session() as session:
            stored = stored_samples(session, samples)
        return observed_for_samples(
            self.store_engine,
            variants_files=files["variants"],
            calls_files=files["calls"],
            coverage_files=files["coverage"],
            samples=stored,
            sites=sites,
            assembly=Assembly(assembly),
        )

    def live_parts(self, assembly: str, chroms: Collection[str] | None = None) -> dict[str, list[Path]]:
        """The live parts of each table (variants, calls, coverage, variant_stats) of `assembly`, on
        `chroms` (None: all), as of the last committed run: what a batch job hands its tasks."""
        state = self._current()
        tables = {
            "variants": state.variants_files,
            "calls": state.calls_files,
            "coverage": state.coverage_files,
            "variant_stats": state.stats_files,
        }
        return {
            name: [
                p for (a, c), paths in sorted(by_chrom.items()) if a == assembly and (chroms is None or c in chroms)
                for p in paths
            ]
            for name, by_chrom in tables.items()
        }  # fmt: skip

    def variant_cells(
        self, *, assembly: str, chrom: str, positions: Sequence[int] = (), region: Region | None = None
    ) -> pa.Table:
        """Every variant_stats row (all scopes and strata) at `positions`, or overlapping `region`:
        what Beacon's variant queries filter, and what small-count suppression must see whole."""
        files = self._current().stats_files.get((assembly, chrom), [])
        if region is not None:
            return cells_in_region(self.store_engine, files, region)
        return cells_at(self.store_engine, files, positions)

    def carriers(self, *, assembly: str, chrom: str, positions: Sequence[int]) -> pa.Table:
        """(pos, ref, alt, sample) of every stored call carrying each allele at `positions`.

        The Beacon budget asks this of the rare alleles in every public answer, so a position's
        carriers are kept (keyed by the committed run: parts never change, a new run is a new key)
        when they are few, as they are wherever an allele is rare."""
        state = self._current()
        files = state.calls_files.get((assembly, chrom), [])
        pieces, missing = [], []
        for pos in sorted(set(positions)):
            found = self._carriers_kept.get((state.version, assembly, chrom, pos))
            if found is None:
                missing.append(pos)
            else:
                pieces.append(found)
        if missing or not pieces:
            fresh = carriers_at(self.store_engine, files, missing)  # a few: row groups; many: one scan
            self._keep_carriers((state.version, assembly, chrom), missing, fresh)
            pieces.append(fresh)
        return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]

    def _keep_carriers(self, scope: tuple[int, str, str], asked: Sequence[int], carriers: pa.Table) -> None:
        """Keep each asked position's carriers (none is an answer too) when they are few."""
        carriers = carriers.sort_by("pos")
        pos = carriers["pos"].to_numpy()
        starts = np.searchsorted(pos, asked, side="left")
        ends = np.searchsorted(pos, asked, side="right")
        with self._lock:
            for at, lo, hi in zip(asked, starts.tolist(), ends.tolist(), strict=True):
                if hi - lo <= _KEPT_CARRIERS_PER_POSITION:
                    self._carriers_kept[(*scope, at)] = carriers.slice(lo, hi - lo)
            while len(self._carriers_kept) > _KEPT_POSITIONS:
                self._carriers_kept.popitem(last=False)

    def annotated_alleles(
        self, *, assembly: str, region: Region, info_contains: Sequence[str] = ()
    ) -> list[AnnotatedAlleles]:
        """The stored alleles in `region` with their INFO (`variant_info`) and the header descriptions
        of the VEP CSQ / bcftools BCSQ / snpEff ANN fields their files carried, read from the live
        `variants` parts of annotated files (query.annotations); what Beacon's aminoacidChange parses.
        No entry at all: no file on the chromosome carried an annotation header."""
        files = self._current().variants_files.get((assembly, region.chrom), [])
        return annotated_alleles(self.store_engine, files, region, info_contains=info_contains)

    def variants_named(self, rsid: str, *, limit: int = 50) -> list[str]:
        """The national alleles a dbSNP id names (as the ingested files wrote it in ID), for search.

        One scan of the statistics' overall rows; an rsID is rare to need and the files are the
        only place the id is kept."""
        state = self._current()
        files = [p for parts in state.stats_files.values() for p in parts]
        if not files:
            return []
        found = self.store_engine.query(
            "SELECT DISTINCT CAST(chrom AS STRING) AS chrom, pos, ref, alt FROM {stats} "
            "WHERE scope = '*' AND stratum = 'all' AND rsid = $rsid ORDER BY chrom, pos, ref, alt LIMIT $limit",
            relations={"stats": Parts.of("variant_stats", files)},
            params={"rsid": rsid, "limit": limit},
        ).to_pydict()
        return [
            f"{c}-{p}-{r}-{a}"
            for c, p, r, a in zip(found["chrom"], found["pos"], found["ref"], found["alt"], strict=True)
        ]

    def gene_region(self, assembly: str, gene: str) -> Region:
        found = find_gene(Assembly(assembly), gene)
        return Region(found.chrom, found.start, found.end)
