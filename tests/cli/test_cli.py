"""The command-line contract scripts depend on: options, TSV columns, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genomenode.cli.main import app
from genomenode.settings import Settings
from tests.conftest import G1K_BATCHES, require_testdata, steward_token

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_testdata()
    path = tmp_path_factory.mktemp("cli") / "node"
    sheet = tmp_path_factory.mktemp("sheet") / "samples.tsv"
    from genomenode.ingest.vcf import read_header

    samples = read_header(G1K_BATCHES[0]).samples
    sheet.write_text(
        "sample_id\tsubject_id\tsex\tpopulation\tcentre\tconsent\n"
        + "".join(
            f"{s}\tP-{s}\t{'female' if i % 2 else 'male'}\t{'EUR' if i % 3 else 'AFR'}\tuppsala\tHMB\n"
            for i, s in enumerate(samples)
        )
    )
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(path),
            "ingest",
            str(G1K_BATCHES[0]),
            "--dataset",
            "1000g",
            "--centre",
            "uppsala",
            "--samples",
            str(sheet),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "committed run" in result.output
    # the contract tests read exact counts: as a steward (small counts are hidden from the public)
    runner.env["GENOMENODE_TOKEN"] = steward_token(Settings(data_dir=path))
    return path


def test_frequencies_tsv__header_and_columns_are_the_contract(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(data_dir),
            "frequencies",
            "--region",
            "chr22:16050000-16100000",
            "--format",
            "tsv",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t") == ["chrom", "pos", "ref", "alt", "ac", "an", "af", "hom", "hemi"]
    row = lines[1].split("\t")
    assert row[0] == "chr22" and int(row[5]) == 1000 and float(row[6]) == pytest.approx(int(row[4]) / 1000, rel=1e-5)


def test_frequencies_tsv__by_population_appends_the_stratum_column(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--data-dir",
            str(data_dir),
            "frequencies",
            "--region",
            "chr22:16050000-16100000",
            "--by",
            "population",
            "--format",
            "tsv",
        ],
    )
    lines = result.output.splitlines()
    assert lines[0].split("\t")[-1] == "population"
    assert {ln.split("\t")[-1] for ln in lines[1:]} == {"AFR", "EUR"}


def test_frequencies_json__same_rows_as_tsv(data_dir: Path) -> None:
    args = ["--data-dir", str(data_dir), "frequencies", "--region", "22:16050000-16100000"]
    tsv = runner.invoke(app, [*args, "--format", "tsv"]).output.splitlines()[1:]
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).output)
    assert len(doc["variants"]) == len(tsv)
    assert [str(v["pos"]) for v in doc["variants"]] == [ln.split("\t")[1] for ln in tsv]


def test_frequencies__by_sex_splits_an_between_sexes(data_dir: Path) -> None:
    doc = json.loads(
        runner.invoke(
            app,
            [
                "--data-dir",
                str(data_dir),
                "frequencies",
                "--region",
                "22:16050000-16060000",
                "--by",
                "sex",
                "--format",
                "json",
            ],
        ).output
    )
    first = doc["variants"][:2]
    assert {v["sex"] for v in first} == {"female", "male"} and sum(v["an"] for v in first) == 1000


def test_variant_json__overall_counts_and_strata(data_dir: Path) -> None:
    row = (
        runner.invoke(
            app,
            [
                "--data-dir",
                str(data_dir),
                "frequencies",
                "--region",
                "22:16050000-16100000",
                "--format",
                "tsv",
            ],
        )
        .output.splitlines()[1]
        .split("\t")
    )
    result = runner.invoke(
        app,
        ["--data-dir", str(data_dir), "variant", f"{row[0]}:{row[1]}:{row[2]}:{row[3]}", "--format", "json"],
    )
    doc = json.loads(result.output)
    assert (doc["ac"], doc["an"]) == (int(row[4]), int(row[5]))
    assert set(doc["strata"]) == {"population", "sex", "centre"}


def test_variant__unknown_variant_exits_1_with_a_message(data_dir: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "variant", "chr10:94781859:G:A", "--format", "json"])
    assert result.exit_code == 1 and "not in the national database" in result.output


def test_data_dir__defaults_to_the_environment_variable(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENOMENODE_DATA_DIR", str(data_dir))
    result = runner.invoke(app, ["datasets"])
    assert result.exit_code == 0 and "1000g\tGRCh37\t500" in result.output


def test_frequencies__region_and_gene_together_are_refused(data_dir: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "frequencies", "--region", "22:1-2", "--gene", "APOL1"])
    assert result.exit_code == 1 and "exactly one" in result.output
