"""Parts are written whole, conform to the declared schema, and only garbage is collected."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from genomenode.errors import StoreError
from genomenode.store.parquet import collect_garbage, max_ref_length, write_part
from genomenode.store.reader import rows_at
from genomenode.store.schema import arrow_schema, markdown_table

REPO = Path(__file__).resolve().parents[2]


def _coverage(n: int) -> pa.Table:
    return pa.table(
        {
            "group_id": [1] * n,
            "chrom": ["chr1"] * n,
            "start": list(range(1, n + 1)),
            "end": list(range(1, n + 1)),
            "an": [2] * n,
        }
    )


def test_write_part__leaves_no_temp_file_and_declares_its_bounds(tmp_path: Path) -> None:
    info = write_part(tmp_path, table="coverage", assembly="GRCh38", chrom="chr1", name="1-1", data=_coverage(10))
    assert (tmp_path / info.path).exists()
    assert not list(tmp_path.rglob("*.tmp"))
    assert (info.n_rows, info.min_pos, info.max_pos) == (10, 1, 10)


def test_write_part__refuses_missing_columns_and_nulls(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no column"):
        write_part(
            tmp_path,
            table="coverage",
            assembly="GRCh38",
            chrom="chr1",
            name="x",
            data=_coverage(3).drop_columns(["an"]),
        )
    bad = _coverage(3).set_column(4, "an", pa.array([2, None, 2], pa.int32()))
    with pytest.raises(StoreError, match="null"):
        write_part(tmp_path, table="coverage", assembly="GRCh38", chrom="chr1", name="x", data=bad)
    assert not list(tmp_path.rglob("*.parquet"))


def test_collect_garbage__removes_orphans_and_temp_files_keeps_committed(tmp_path: Path) -> None:
    kept = write_part(tmp_path, table="coverage", assembly="GRCh38", chrom="chr1", name="a", data=_coverage(2))
    orphan = write_part(tmp_path, table="coverage", assembly="GRCh38", chrom="chr1", name="b", data=_coverage(2))
    (tmp_path / "coverage" / "GRCh38" / "chr1" / "part-c.parquet.tmp").write_bytes(b"half")
    removed = collect_garbage(tmp_path, keep={kept.path})
    assert sorted(removed) == sorted([orphan.path, "coverage/GRCh38/chr1/part-c.parquet.tmp"])
    assert (tmp_path / kept.path).exists()


def test_collect_garbage__spares_files_younger_than_the_grace_period(tmp_path: Path) -> None:
    young = write_part(tmp_path, table="coverage", assembly="GRCh38", chrom="chr1", name="y", data=_coverage(2))
    assert collect_garbage(tmp_path, keep=set(), min_age_seconds=3600) == []
    os.utime(tmp_path / young.path, (0, 0))
    assert collect_garbage(tmp_path, keep=set(), min_age_seconds=3600) == [young.path]


def test_rows_at__reads_only_the_rows_at_a_position_across_row_groups(tmp_path: Path) -> None:
    n = 20_000  # more than one 8k row group
    rows = [
        {
            "scope": "*",
            "stratum": "all",
            "stratum_value": "",
            "chrom": "chr1",
            "pos": i // 2 + 1,
            "ref": "AT" if i == 7 else "A",
            "alt": "G",
            "ac": 1,
            "an": 2,
            "hom": 0,
            "hemi": 0,
            "n_files": 1,
            "filters": "",
            "rsid": None,
        }
        for i in range(n)
    ]
    info = write_part(
        tmp_path,
        table="variant_stats",
        assembly="GRCh38",
        chrom="chr1",
        name="s",
        data=pa.Table.from_pylist(rows, schema=arrow_schema("variant_stats")),
    )
    found = rows_at([tmp_path / info.path], 9000)
    assert found is not None and found.num_rows == 2 and set(found["pos"].to_pylist()) == {9000}
    assert rows_at([tmp_path / info.path], n) is None
    assert max_ref_length(tmp_path / info.path) == 2


def test_schema_doc__matches_the_code() -> None:
    assert markdown_table() in (REPO / "docs" / "schema.md").read_text()
