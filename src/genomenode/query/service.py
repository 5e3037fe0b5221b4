"""The node's read side: one object the CLI, the API (and later Beacon) ask for answers.

It resolves what the caller named (dataset, gene, region) into the store's live files, using the
catalog as the list of what is committed, so a query never reads half an ingest. Access control
(issue 3) wraps this service; nothing here knows about HTTP or the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.domain.assembly import Assembly
from genomenode.domain.variant import Region, Variant, parse_variant
from genomenode.errors import InputError, NotFoundError
from genomenode.query.frequencies import BY_CHOICES, FrequencyRow, frequencies_in_region, variant_strata
from genomenode.settings import Settings
from genomenode.store.genes import Gene, find_gene


@dataclass(frozen=True)
class FrequencyAnswer:
    assembly: str
    scope: str
    region: Region
    gene: Gene | None
    by: str | None
    pass_only: bool
    rows: list[FrequencyRow]


class NodeQueries:
    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self._owns_engine = engine is None
        self.engine = engine or open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
        self.Session = session_factory(self.engine)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> NodeQueries:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is here -----------------------------------------------------------------------
    def datasets(self) -> list[repo.DatasetSummary]:
        with self.Session() as s:
            return repo.list_datasets(s)

    def _scope(self, dataset: str | None) -> tuple[str, Assembly]:
        with self.Session() as s:
            if dataset is not None:
                found = repo.get_dataset(s, dataset)
                if found is None:
                    names = ", ".join(d.name for d in repo.list_datasets(s)) or "none yet"
                    raise NotFoundError(f"no dataset {dataset!r} (datasets: {names})")
                return dataset, Assembly(found.assembly)
            assemblies = {d.assembly for d in repo.list_datasets(s)}
        if not assemblies:
            raise NotFoundError("the node holds no data yet; ingest VCFs with `genomenode ingest` first")
        if len(assemblies) > 1:
            raise InputError(
                f"datasets hold different assemblies ({', '.join(sorted(assemblies))}); name one with --dataset"
            )
        return "*", Assembly(assemblies.pop())

    def _stats_files(self, assembly: Assembly, chrom: str) -> list[Path]:
        with self.Session() as s:
            live = repo.live_store_files(s, table_name="variant_stats", assembly=assembly.value, chrom=chrom)
        return [self.settings.store_root / f.path for f in live]

    # -- answers ----------------------------------------------------------------------------
    def frequencies(
        self,
        *,
        region: Region | None = None,
        gene: str | None = None,
        dataset: str | None = None,
        by: str | None = None,
        pass_only: bool = False,
    ) -> FrequencyAnswer:
        if (region is None) == (gene is None):
            raise InputError("give exactly one of --region or --gene")
        if by is not None and by not in BY_CHOICES:
            raise InputError(f"--by {by!r}: choose one of {', '.join(BY_CHOICES)}")
        scope, assembly = self._scope(dataset)
        found_gene = None
        if gene is not None:
            found_gene = find_gene(assembly, gene)
            region = Region(found_gene.chrom, found_gene.start, found_gene.end)
        assert region is not None
        rows = frequencies_in_region(
            self._stats_files(assembly, region.chrom),
            region,
            scope=scope,
            by=by,
            pass_only=pass_only,
            threads=self.settings.query_threads,
        )
        return FrequencyAnswer(assembly.value, scope, region, found_gene, by, pass_only, rows)

    def variant(self, variant: Variant | str, *, dataset: str | None = None) -> dict[str, Any]:
        v = parse_variant(variant) if isinstance(variant, str) else variant
        scope, assembly = self._scope(dataset)
        rows = [
            r
            for r in variant_strata(self._stats_files(assembly, v.chrom), v)
            if scope == "*" or r["scope"] in ("*", scope)
        ]
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
            entry = {k: r[k] for k in ("ac", "an", "af", "hom", "hemi")}
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
            **{k: overall[k] for k in ("ac", "an", "af", "hom", "hemi")},
            "datasets": datasets,
            "strata": strata,
        }
