"""`genomenode stats check`: the stored statistics recomputed from scratch, and any drift found."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.cli.main import app
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.pipeline.stats_check import check_statistics
from genomenode.settings import Settings
from tests.conftest import G1K_BATCHES, require_testdata


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    require_testdata()
    settings = Settings(data_dir=tmp_path_factory.mktemp("stats") / "node")
    for i, path in enumerate(G1K_BATCHES[:2]):
        ingest(settings, IngestRequest(files=[path], dataset="1000g", centre=f"centre-{i + 1}"))
    return settings


def _copy(settings: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(settings.data_dir, tmp_path / "node")
    return Settings(data_dir=tmp_path / "node")


def _stats_part(settings: Settings) -> Path:
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        with session_factory(engine)() as s:
            (part,) = repo.live_store_files(s, table_name="variant_stats")
            return settings.store_root / part.path
    finally:
        engine.dispose()


def _rewrite(path: Path, change: pa.Table) -> None:
    pq.write_table(change, path, row_group_size=8192)


def test_freshly_ingested_statistics_agree_with_a_recompute(ingested: Settings) -> None:
    # GIVEN two centres' files ingested WHEN the statistics are recomputed from scratch
    (chrom,) = check_statistics(ingested)
    # THEN every cell agrees, and there were cells to compare
    assert (chrom.chrom, chrom.differing, chrom.examples) == ("chr22", 0, [])
    assert chrom.stored_rows == chrom.recomputed_rows > 10_000


def test_cli_prints_a_row_per_chromosome_and_exits_zero(ingested: Settings) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(ingested.data_dir), "stats", "check"])
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split("\t") == ["assembly", "chrom", "stored_rows", "recomputed_rows", "differing", "seconds"]
    assert row.split("\t")[:2] == ["GRCh37", "chr22"] and row.split("\t")[4] == "0"


def test_a_changed_count_and_a_lost_row_are_found_and_the_cli_fails(ingested: Settings, tmp_path: Path) -> None:
    # GIVEN a node whose stored statistics were altered behind the pipeline's back:
    # one allele count off by one, and one cell gone
    settings = _copy(ingested, tmp_path)
    part = _stats_part(settings)
    table = pq.read_table(part)
    ac = table["ac"].to_pylist()
    ac[100] += 1
    table = table.set_column(table.column_names.index("ac"), "ac", pa.array(ac, pa.int32()))
    keep = pc.not_equal(pa.array(range(table.num_rows)), 2000)
    _rewrite(part, table.filter(keep))
    # WHEN checked
    (chrom,) = check_statistics(settings)
    # THEN both are found, each with what the parts say and what was stored
    assert chrom.differing == 2
    assert chrom.recomputed_rows == chrom.stored_rows + 1
    problems = sorted(e["problem"] for e in chrom.examples)
    assert problems == ["different", "only recomputed"]
    changed = next(e for e in chrom.examples if e["problem"] == "different")
    assert changed["stored_ac"] == changed["recomputed_ac"] + 1
    # AND the command says so, and exits 1
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), "stats", "check", "--format", "json"])
    assert result.exit_code == 1
    assert "drift:" in result.stderr and "2 cell(s) differ" in result.stderr


def test_an_empty_node_has_nothing_to_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "empty"), "stats", "check"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["assembly\tchrom\tstored_rows\trecomputed_rows\tdiffering\tseconds"]
    assert "no statistics to check" in result.stderr


def _with_filter(source: Path, out: Path, name: str, every: int) -> Path:
    """`source` with FILTER `name` (declared in the header) on every `every`-th record."""
    import gzip

    lines = gzip.decompress(source.read_bytes()).decode().splitlines()
    header = [line for line in lines if line.startswith("#")]
    body = [line.split("\t") for line in lines if not line.startswith("#")]
    for k, fields in enumerate(body):
        if k % every == 0:
            fields[6] = name
    declared = f'##FILTER=<ID={name},Description="test filter {name}">'
    out.write_text("\n".join([*header[:-1], declared, header[-1], *("\t".join(f) for f in body)]) + "\n")
    return out


def test_statistics_added_delivery_by_delivery_equal_a_recompute_from_scratch(tmp_path: Path) -> None:
    # GIVEN four centres' deliveries, two of them failing different filters at some of the same
    # alleles (the merged FILTER must be the union), each ingested on its own: after the first,
    # statistics are the old ones plus the new files' share, never recomputed from every part
    require_testdata()
    settings = Settings(data_dir=tmp_path / "node")
    deliveries = [
        G1K_BATCHES[0],
        _with_filter(G1K_BATCHES[1], tmp_path / "q10.vcf", "q10", 3),
        _with_filter(G1K_BATCHES[2], tmp_path / "lowqual.vcf", "LowQual", 2),
        G1K_BATCHES[3],
    ]
    for i, path in enumerate(deliveries):
        ingest(settings, IngestRequest(files=[path], dataset="1000g", centre=f"centre-{i + 1}"))
        # WHEN recomputed from scratch THEN every cell is what the incremental update wrote
        (chrom,) = check_statistics(settings)
        assert (chrom.differing, chrom.examples) == (0, []), i
    part = pq.read_table(_stats_part(settings), columns=["filters"])
    assert "LowQual;q10" in set(part["filters"].to_pylist())
