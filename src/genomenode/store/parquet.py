"""Parquet parts on disk: written whole or not at all.

A part is written to `<name>.tmp`, fsynced, then renamed into place, so no reader or crash ever
sees half a file under a final name. A part becomes *visible* only when the catalog transaction
that lists it commits; parts that no commit names (a killed ingest) are garbage, removed under
the write lock by `collect_garbage`. Files are plain Parquet that Spark or DuckDB read unchanged.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from genomenode.store.schema import conform

ROW_GROUP_ROWS = 64 * 1024  # a region query reads only the row groups whose pos range overlaps
# variant_stats and calls are read by point lookups (Beacon, a person's genotypes, the budget's carriers):
# small row groups mean one lookup decompresses ~8k-16k rows (16k calls rows: 0.4 ms, 64k: 1.2 ms)
ROW_GROUP_ROWS_BY_TABLE = {"variant_stats": 8 * 1024, "calls": 16 * 1024}
MAX_REF_LEN_KEY = b"genomenode.max_ref_len"  # how far left a region query must look for overlapping REFs
# variants parts: JSON {INFO key: header Description} of the file's VEP CSQ / bcftools BCSQ / snpEff
# ANN fields, which say what the `|`-separated values in variant_info mean
ANNOTATIONS_KEY = b"genomenode.annotations"


@dataclass(frozen=True)
class PartInfo:
    path: str  # relative to the store root
    table: str
    assembly: str
    chrom: str
    n_rows: int
    size_bytes: int
    min_pos: int | None
    max_pos: int | None


def part_path(table: str, assembly: str, chrom: str, name: str) -> str:
    return f"{table}/{assembly}/{chrom}/part-{name}.parquet"


def write_part(
    root: Path,
    *,
    table: str,
    assembly: str,
    chrom: str,
    name: str,
    data: pa.Table,
    metadata: Mapping[bytes, bytes] | None = None,
) -> PartInfo:
    """Write `data` as a part; `metadata`: key-value pairs for the part's footer (`ANNOTATIONS_KEY`)."""
    data = conform(table, data)
    if metadata:
        data = data.replace_schema_metadata(dict(metadata))
    rel = part_path(table, assembly, chrom, name)
    final = root / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".tmp")
    if "ref" in data.column_names and data.num_rows:
        refs = data["ref"].combine_chunks()
        values = refs.dictionary if pa.types.is_dictionary(refs.type) else refs
        longest = pc.max(pc.utf8_length(values)).as_py()
        meta = dict(data.schema.metadata or {})
        meta[MAX_REF_LEN_KEY] = str(longest).encode()
        data = data.replace_schema_metadata(meta)
    pq.write_table(
        data,
        tmp,
        row_group_size=ROW_GROUP_ROWS_BY_TABLE.get(table, ROW_GROUP_ROWS),
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
    )
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    pos_col = "pos" if "pos" in data.column_names else "start"
    bounds = pc.min_max(data[pos_col]) if data.num_rows else None
    return PartInfo(
        path=rel,
        table=table,
        assembly=assembly,
        chrom=chrom,
        n_rows=data.num_rows,
        size_bytes=final.stat().st_size,
        min_pos=bounds["min"].as_py() if bounds else None,
        max_pos=bounds["max"].as_py() if bounds else None,
    )


@functools.lru_cache(maxsize=4096)
def max_ref_length(path: Path) -> int:
    """The longest REF in a part (parts are immutable, so the answer is cached by path)."""
    meta = pq.read_metadata(path).metadata or {}
    return int(meta.get(MAX_REF_LEN_KEY, b"1"))


def annotation_metadata(fields: Mapping[str, str]) -> dict[bytes, bytes]:
    """A variants part's footer entry for the annotation fields of its file (none: no entry)."""
    return {ANNOTATIONS_KEY: json.dumps(dict(fields), sort_keys=True).encode()} if fields else {}


@functools.lru_cache(maxsize=4096)
def annotation_headers(path: Path) -> Mapping[str, str]:
    """INFO key → header description of the annotation fields a variants part's file carried
    (empty when it carried none); parts are immutable, so the answer is cached by path."""
    meta = pq.read_metadata(path).metadata or {}
    raw = meta.get(ANNOTATIONS_KEY)
    return dict(json.loads(raw)) if raw else {}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def collect_garbage(
    root: Path, *, keep: set[str], delete: Iterable[str] = (), min_age_seconds: float = 0.0
) -> list[str]:
    """Remove parts no commit references (and superseded ones in `delete`); call under the write lock."""
    removed: list[str] = []
    now = time.time()
    if not root.exists():
        return removed
    for path in root.rglob("*"):
        if not path.is_file() or not (path.name.endswith(".parquet") or path.name.endswith(".tmp")):
            continue
        rel = path.relative_to(root).as_posix()
        if rel in keep:
            continue
        if now - path.stat().st_mtime < min_age_seconds:
            continue
        path.unlink(missing_ok=True)
        removed.append(rel)
    for rel in delete:
        target = root / rel
        if target.exists():
            target.unlink()
            removed.append(rel)
    return removed
