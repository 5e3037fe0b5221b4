"""Recompute every chromosome's statistics from scratch and compare them with the stored ones.

Each ingest, withdrawal and erasure rewrites the statistics of the chromosomes it touches from
the live per-file parts (pipeline.restats); this check is the independent audit that they have
not drifted: the whole store recomputed in one pass (on Spark at national scale) and compared
cell by cell, in the engine, with the live `variant_stats` parts. It writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.pipeline.restats import group_rows, live_inputs
from genomenode.settings import Settings
from genomenode.store.engine import Parts, StoreEngine, open_engine
from genomenode.store.stats import GROUPS_SCHEMA, stats_sql

Progress = Callable[[str, int, int | None], None]
SHOWN = 20  # differing cells listed per chromosome (all are counted)

_KEY = ("scope", "stratum", "stratum_value", "pos", "ref", "alt")
_VALUES = ("ac", "an", "hom", "hemi", "n_files", "filters", "rsid")
_SIDE = """
SELECT CAST(scope AS STRING) AS scope, CAST(stratum AS STRING) AS stratum,
       CAST(stratum_value AS STRING) AS stratum_value, pos, CAST(ref AS STRING) AS ref,
       CAST(alt AS STRING) AS alt, ac, an, hom, hemi, n_files, filters, rsid, 1 AS present
FROM {source}
"""
_JOINED = f"""
WITH recomputed AS ({_SIDE.format(source="({recomputed}) computed")}),
stored AS ({_SIDE.format(source="{stored}")}),
joined AS (
    SELECT {", ".join(f"coalesce(r.{k}, s.{k}) AS {k}" for k in _KEY)},
           {", ".join(f"r.{v} AS recomputed_{v}, s.{v} AS stored_{v}" for v in _VALUES)},
           r.present AS in_recomputed, s.present AS in_stored,
           CASE WHEN r.present IS NULL THEN 'only stored' WHEN s.present IS NULL THEN 'only recomputed'
                WHEN {" OR ".join(f"r.{v} IS DISTINCT FROM s.{v}" for v in _VALUES)} THEN 'different' END AS problem
    FROM recomputed r FULL OUTER JOIN stored s ON {" AND ".join(f"r.{k} = s.{k}" for k in _KEY)}
)
"""
_COUNTS = (
    _JOINED
    + "SELECT count(in_recomputed) AS n_recomputed, count(in_stored) AS n_stored, count(problem) AS n_differing\n"
    + "FROM joined"
)
_EXAMPLES = (
    _JOINED
    + "SELECT * FROM joined WHERE problem IS NOT NULL\n"
    + f"ORDER BY pos, ref, alt, scope, stratum, stratum_value LIMIT {SHOWN}"
)


@dataclass(frozen=True)
class ChromosomeCheck:
    assembly: str
    chrom: str
    stored_rows: int
    recomputed_rows: int
    differing: int  # cells only in one, or with different values
    examples: list[dict[str, Any]] = field(default_factory=list)  # the first SHOWN, both sides' values
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.differing == 0


def check_statistics(
    settings: Settings, *, engine: StoreEngine | None = None, progress: Progress | None = None
) -> list[ChromosomeCheck]:
    """Every chromosome with live data, recomputed from its parts and compared with its statistics."""
    report = progress or (lambda *_: None)
    own = engine is None
    runner = engine or open_engine(
        settings.engine,
        threads=settings.query_threads,
        spark_master=settings.spark_master,
        spark_conf=settings.spark_conf,
    )
    catalog = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        with session_factory(catalog)() as session:
            work = _work(settings.store_root, session)
        out = []
        for i, (assembly, chrom, inputs, stored, groups) in enumerate(work):
            report(f"recomputing {assembly.value} {chrom}", i, len(work))
            started = time.monotonic()
            out.append(_check(runner, assembly, chrom, inputs, stored, groups, started))
        report("recomputing statistics", len(work), len(work))
        return out
    finally:
        catalog.dispose()
        if own:
            runner.close()


def _work(root: Path, session: Any) -> list[tuple[Assembly, str, dict[str, list[Path]], list[Path], pa.Table]]:
    """(assembly, chrom, live inputs, live stats parts, groups) for every chromosome with data, in contig order."""
    found: dict[tuple[str, str], list[Path]] = {}
    for f in repo.live_store_files(session, table_name="site_counts"):
        found.setdefault((f.assembly, f.chrom), [])
    for f in repo.live_store_files(session, table_name="variant_stats"):
        found.setdefault((f.assembly, f.chrom), []).append(root / f.path)
    out = []
    groups: dict[str, pa.Table] = {}
    for (assembly_name, chrom), stored in sorted(found.items(), key=lambda kv: _order(*kv[0])):
        assembly = Assembly(assembly_name)
        if assembly_name not in groups:
            groups[assembly_name] = pa.Table.from_pylist(group_rows(session, assembly), schema=GROUPS_SCHEMA)
        out.append((assembly, chrom, live_inputs(root, session, assembly, chrom), stored, groups[assembly_name]))
    return out


def _order(assembly: str, chrom: str) -> tuple[str, int, str]:
    contigs = list(contig_lengths(Assembly(assembly)))
    return (assembly, contigs.index(chrom) if chrom in contigs else len(contigs), chrom)


def _check(
    engine: StoreEngine,
    assembly: Assembly,
    chrom: str,
    inputs: dict[str, list[Path]],
    stored: list[Path],
    groups: pa.Table,
    started: float,
) -> ChromosomeCheck:
    recomputed = stats_sql(engine)
    recomputed = recomputed[: recomputed.rindex("ORDER BY")]  # a subquery: no order of its own
    relations = {
        "site_counts": Parts.of("site_counts", inputs["site_counts"]),
        "coverage": Parts.of("coverage", inputs["coverage"]),
        "variants": Parts.of("variants", inputs["variants"]),
        "old_stats": Parts.of("variant_stats", []),  # from scratch: nothing old
        "old_site_counts": Parts.of("site_counts", []),
        "old_coverage": Parts.of("coverage", []),
        "groups": groups,
        "stored": Parts.of("variant_stats", stored),
    }
    params = {"chrom": chrom}
    counts = engine.query(_COUNTS.replace("{recomputed}", recomputed), relations=relations, params=params).to_pylist()[
        0
    ]
    examples: list[dict[str, Any]] = []
    if counts["n_differing"]:  # the rare case: a second pass for the first cells that differ
        sql = _EXAMPLES.replace("{recomputed}", recomputed)
        examples = engine.query(sql, relations=relations, params=params).to_pylist()
    return ChromosomeCheck(
        assembly.value,
        chrom,
        stored_rows=int(counts["n_stored"]),
        recomputed_rows=int(counts["n_recomputed"]),
        differing=int(counts["n_differing"]),
        examples=examples,
        seconds=time.monotonic() - started,
    )
