"""Point reads from Parquet parts through their row-group statistics: the store's tabix.

Every part is sorted by position and written in small row groups, and Parquet keeps each row
group's min/max `pos`; a lookup decompresses only the row group(s) whose range holds the
position. Parts are immutable, so a file's row-group index is read once and cached.

A `ParquetFile` reader is not safe to share between threads (concurrent `read_row_groups` on one
reader fail with "ReadRangeCache did not find matching cache entry", or worse), and the API reads
from a thread pool: each thread keeps its own readers, opened from the cached metadata.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq


@functools.lru_cache(maxsize=2048)
def _index(path: Path) -> tuple[pq.FileMetaData, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The file's footer and each row group's min/max `pos` (immutable: shared by every thread)."""
    meta = pq.read_metadata(path)
    col = meta.schema.to_arrow_schema().get_field_index("pos")
    lo = np.empty(meta.num_row_groups, np.int64)
    hi = np.empty(meta.num_row_groups, np.int64)
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(col).statistics
        lo[i], hi[i] = (stats.min, stats.max) if stats is not None and stats.has_min_max else (0, 2**62)
    return meta, lo, hi


_local = threading.local()
_READERS_PER_THREAD = 256


def _row_group_index(path: Path) -> tuple[pq.ParquetFile, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """This thread's reader of `path` (opened from the shared footer, no re-parse), and the index."""
    meta, lo, hi = _index(path)
    readers: dict[Path, pq.ParquetFile] = getattr(_local, "readers", None) or {}
    _local.readers = readers
    reader = readers.get(path)
    if reader is None:
        if len(readers) >= _READERS_PER_THREAD:
            readers.clear()
        reader = readers[path] = pq.ParquetFile(path, metadata=meta)
    return reader, lo, hi


def rows_at(paths: Sequence[Path], pos: int, *, columns: Sequence[str] | None = None) -> pa.Table | None:
    """All rows at `pos` in the given parts (None when there are none)."""
    pieces = []
    for path in paths:
        parquet, lo, hi = _row_group_index(path)
        groups = np.flatnonzero((lo <= pos) & (hi >= pos))
        if not groups.size:
            continue
        table = parquet.read_row_groups([int(g) for g in groups], columns=list(columns) if columns else None)
        # numpy, not pyarrow.compute: its wrapper retries a failing import on every call (~0.25 ms)
        keep = np.flatnonzero(table.column("pos").to_numpy() == pos)
        pieces.append(table.take(pa.array(keep)))
    pieces = [p for p in pieces if p.num_rows]
    return pa.concat_tables(pieces) if pieces else None
