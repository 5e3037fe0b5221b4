"""Rewrite the precomputed statistics of some chromosomes from the live per-file parts.

Shared by ingest (the chromosomes a run touches) and consent changes (the chromosomes a
withdrawn person's files cover), so both produce the numbers one way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from genomenode.catalog import models as m
from genomenode.catalog import repository as repo
from genomenode.domain.assembly import Assembly
from genomenode.store.engine import StoreEngine
from genomenode.store.parquet import PartInfo, write_part
from genomenode.store.stats import GROUPS_SCHEMA, compute_stats

Progress = Callable[[str, int, int | None], None]


def recompute_stats(
    root: Path,
    session: Any,
    assembly: Assembly,
    chroms: list[str],
    new_parts: list[PartInfo],
    new_groups: list[dict[str, Any]],
    run_id: int,
    replaced_files: set[int],
    report: Progress,
    *,
    weights: Mapping[int, int] | None = None,
    drop_groups: Collection[int] = (),
    replaced_parts: Collection[int] = (),
    name: str | None = None,
    engine: StoreEngine | None = None,
) -> tuple[list[PartInfo], list[int]]:
    """Rewrite variant_stats for `chroms` from the live + new per-file parts: when files are only
    added, as the old statistics plus the new files' share (store.stats), else from scratch.

    `weights` overrides the catalog's weight of existing groups (a withdrawal not yet committed);
    returns the new parts and the ids of the stats parts they supersede. `engine`: where the
    statistics are computed (none: an embedded DuckDB per chromosome).
    """
    weights = weights or {}
    kept = [
        g
        for g in group_rows(session, assembly)
        if g["group_id"] not in drop_groups and g["file_id"] not in replaced_files
    ]
    group_table = pa.Table.from_pylist(
        [{**g, "weight": weights.get(g["group_id"], g["weight"])} for g in kept]
        + [{"weight": 1, **g} for g in new_groups],
        schema=GROUPS_SCHEMA,
    )
    # only adding files: the old statistics stay right for the old groups, so the new ones add to them
    incremental = not (weights or drop_groups or replaced_files or replaced_parts)
    out: list[PartInfo] = []
    superseded: list[int] = []
    for i, chrom in enumerate(chroms):
        report("computing allele frequencies", i, len(chroms))
        live = live_inputs(root, session, assembly, chrom, replaced_files=replaced_files, replaced_parts=replaced_parts)
        new = {t: [root / p.path for p in new_parts if p.table == t and p.chrom == chrom] for t in live}
        old_stats = [
            root / f.path
            for f in repo.live_store_files(session, table_name="variant_stats", assembly=assembly.value, chrom=chrom)
        ]
        if incremental:
            stats = compute_stats(
                chrom=chrom,
                site_files=new["site_counts"],
                coverage_files=new["coverage"],
                variant_files=new["variants"],
                groups=group_table,
                engine=engine,
                old_stats_files=old_stats,
                old_site_files=live["site_counts"],
                old_coverage_files=live["coverage"],
            )
        else:
            stats = compute_stats(
                chrom=chrom,
                site_files=live["site_counts"] + new["site_counts"],
                coverage_files=live["coverage"] + new["coverage"],
                variant_files=live["variants"] + new["variants"],
                groups=group_table,
                engine=engine,
            )
        out.append(
            write_part(
                root,
                table="variant_stats",
                assembly=assembly.value,
                chrom=chrom,
                name=name or f"{run_id:08d}",
                data=stats,
            )
        )
        superseded += [
            f.id
            for f in repo.live_store_files(session, table_name="variant_stats", assembly=assembly.value, chrom=chrom)
        ]
    report("computing allele frequencies", len(chroms), len(chroms))
    return out, superseded


def group_rows(session: Any, assembly: Assembly) -> list[dict[str, Any]]:
    """Every live call group of `assembly` with its labels, file and weight (GROUPS_SCHEMA + file_id)."""
    return [
        {
            "group_id": g.group_id,
            "file_id": g.file_id,
            "dataset": g.dataset,
            "population": g.population,
            "sex": g.sex,
            "centre": g.centre,
            "weight": g.weight,
        }
        for g in repo.call_groups(session, assembly=assembly.value)
    ]


def live_inputs(
    root: Path,
    session: Any,
    assembly: Assembly,
    chrom: str,
    *,
    replaced_files: Collection[int] = (),
    replaced_parts: Collection[int] = (),
) -> dict[str, list[Path]]:
    """The live per-file parts (site_counts, coverage, variants) the statistics of `chrom` come from."""
    files: dict[str, list[Path]] = {}
    for table in ("site_counts", "coverage", "variants"):
        live = repo.live_store_files(session, table_name=table, assembly=assembly.value, chrom=chrom)
        files[table] = [
            root / f.path for f in live if file_id_of(f.path) not in replaced_files and f.id not in replaced_parts
        ]
    return files


def file_id_of(path: str) -> int | None:
    """Per-file parts are named part-<run>-<file>[-<piece>].parquet."""
    stem = Path(path).stem.removeprefix("part-")
    pieces = stem.split("-")  # run-file, or run-file-piece
    return int(pieces[1]) if len(pieces) in (2, 3) else None


def exclusion_group_of(path: str) -> int | None:
    """Exclusion parts (pipeline.consent) are named part-<run>-<file>-x<group>.parquet."""
    last = path.rsplit("-", 1)[-1].removesuffix(".parquet")
    return int(last[1:]) if last.startswith("x") else None


def store_file_rows(
    parts: Iterable[PartInfo], *, run_id: int, dataset_of: Callable[[PartInfo], int | None], created_at: datetime
) -> list[m.StoreFile]:
    """The catalog rows that make written parts live when their run commits (ingest, consent, erasure)."""
    return [
        m.StoreFile(
            path=part.path,
            table_name=part.table,
            assembly=part.assembly,
            chrom=part.chrom,
            dataset_id=dataset_of(part),
            run_id=run_id,
            n_rows=part.n_rows,
            size_bytes=part.size_bytes,
            min_pos=part.min_pos,
            max_pos=part.max_pos,
            created_at=created_at,
        )
        for part in parts
    ]
