"""Point reads from many threads at once (the API's thread pool) give the single-thread answers.

A shared pyarrow ParquetFile read from several threads crashed the server under Beacon load
(segfault, or "ReadRangeCache did not find matching cache entry"); each thread now has its own.
"""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from genomenode.store.reader import rows_at


def test_rows_at__many_threads_read_the_same_parts_correctly(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    paths = []
    for i in range(3):
        pos = np.sort(rng.integers(1, 200_000, 40_000)).astype(np.int32)
        table = pa.table({"pos": pos, "value": rng.integers(0, 1000, len(pos)).astype(np.int32)})
        paths.append(tmp_path / f"part-{i}.parquet")
        pq.write_table(table, paths[-1], row_group_size=512)
    wanted = rng.integers(1, 200_000, 400).tolist()
    expected = {p: rows_at(paths, p) for p in wanted}

    def read(seed: int) -> bool:
        order = np.random.default_rng(seed).permutation(wanted)
        for p in order.tolist():
            got, want = rows_at(paths, p), expected[p]
            if (got is None) != (want is None) or (got is not None and want is not None and not got.equals(want)):
                return False
        return True

    with cf.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(16)))
