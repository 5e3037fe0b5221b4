"""Bad input gets a one-line error naming the file and record, a non-zero exit, and changes nothing."""

from __future__ import annotations

import gzip
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from genomenode.cli.main import app
from tests.conftest import G1K_BATCHES, PLATINUM, require_testdata, store_snapshot

runner = CliRunner()
NA12877 = PLATINUM / "1K.end.platinum-genomes-vcf-NA12877_S1.vcf.gz"
NA12878 = PLATINUM / "1K.end.platinum-genomes-vcf-NA12878_S1.vcf.gz"


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as fh:
        return fh.read().splitlines()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.output


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """A node that already holds one sample, so 'unchanged' is tested against real state."""
    require_testdata()
    data_dir = tmp_path / "node"
    code, out = _run(data_dir, "ingest", str(NA12877), "--dataset", "ceph", "--centre", "utah")
    assert code == 0, out
    return data_dir


def _truncated(tmp: Path) -> tuple[Path, list[str]]:
    data = G1K_BATCHES[0].read_bytes()
    path = tmp / "truncated.vcf.gz"
    path.write_bytes(data[: len(data) // 2])
    return path, []


def _not_vcf(tmp: Path) -> tuple[Path, list[str]]:
    return _write(tmp / "notes.vcf", ["this is a sample manifest, not a VCF", "a\tb\tc"]), []


def _no_chrom_line(tmp: Path) -> tuple[Path, list[str]]:
    return _write(tmp / "nochrom.vcf", [ln for ln in _lines(NA12878) if not ln.startswith("#CHROM")]), []


def _wrong_columns(tmp: Path) -> tuple[Path, list[str]]:
    # an extra sample column: htslib would drop it silently
    lines = _lines(NA12878)
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    lines[first + 4] += "\t0/1:1,2:3"
    return _write(tmp / "columns.vcf", lines), []


def _missing_columns(tmp: Path) -> tuple[Path, list[str]]:
    lines = _lines(NA12878)
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    lines[first + 7] = "\t".join(lines[first + 7].split("\t")[:8])
    return _write(tmp / "short.vcf", lines), []


def _plain_gzip_truncated(tmp: Path) -> tuple[Path, list[str]]:
    data = gzip.compress("\n".join(_lines(NA12878)).encode())
    path = tmp / "plain.vcf.gz"
    path.write_bytes(data[: len(data) - 200])
    return path, []


def _unsorted(tmp: Path) -> tuple[Path, list[str]]:
    lines = _lines(NA12878)
    first = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    lines[first + 2], lines[first + 6] = lines[first + 6], lines[first + 2]
    return _write(tmp / "unsorted.vcf", lines), []


def _ref_mismatch(tmp: Path) -> tuple[Path, list[str]]:
    rng = random.Random(1)
    fasta = tmp / "ref.fa"
    with fasta.open("w") as fh:
        for name, length in (("chr1", 54321), ("chrM", 16571)):
            seq = "".join(rng.choice("ACGT") for _ in range(length))
            fh.write(f">{name}\n" + "\n".join(seq[i : i + 60] for i in range(0, length, 60)) + "\n")
    return NA12878, ["--reference", str(fasta)]


def _duplicate_samples(tmp: Path) -> tuple[Path, list[str]]:
    lines = _lines(NA12878)
    lines = [ln + "\tNA12878" if ln.startswith("#CHROM") else ln for ln in lines]
    lines = [ln if ln.startswith("#") else ln + "\t" + ln.split("\t")[-1] for ln in lines]
    return _write(tmp / "dups.vcf", lines), []


def _sheet_missing_sample(tmp: Path) -> tuple[Path, list[str]]:
    sheet = _write(tmp / "sheet.tsv", ["sample_id\tsubject_id\tsex", "NA99999\tP1\tfemale"])
    return NA12878, ["--samples", str(sheet)]


def _sheet_with_extra_sample(tmp: Path) -> tuple[Path, list[str]]:
    sheet = _write(tmp / "sheet.tsv", ["sample_id\tsubject_id\tsex", "NA12878\tP1\tfemale", "NA00001\tP2\tmale"])
    return NA12878, ["--samples", str(sheet)]


def _sheet_bad_sex(tmp: Path) -> tuple[Path, list[str]]:
    sheet = _write(tmp / "sheet.tsv", ["sample_id\tsubject_id\tsex", "NA12878\tP1\tsometimes"])
    return NA12878, ["--samples", str(sheet)]


def _sheet_unknown_hpo_term(tmp: Path) -> tuple[Path, list[str]]:
    sheet = _write(tmp / "sheet.tsv", ["sample_id\tsubject_id\tphenotypes", "NA12878\tP1\tHP:0001250;HP:9999999"])
    return NA12878, ["--samples", str(sheet)]


def _sheet_bad_age(tmp: Path) -> tuple[Path, list[str]]:
    sheet = _write(tmp / "sheet.tsv", ["sample_id\tsubject_id\tage", "NA12878\tP1\tforty-two"])
    return NA12878, ["--samples", str(sheet)]


def _unknown_assembly(tmp: Path) -> tuple[Path, list[str]]:
    # a new dataset: the existing one would lend its assembly to a file without contig lengths
    lines = [ln for ln in _lines(NA12878) if not ln.startswith("##contig")]
    return _write(tmp / "nolengths.vcf", lines), ["--dataset", "new-dataset"]


def _other_assembly(tmp: Path) -> tuple[Path, list[str]]:
    lines = [
        ln.replace("##contig=<ID=chrM,length=16571>", "##contig=<ID=chr22,length=50818468>") for ln in _lines(NA12878)
    ]
    return _write(tmp / "grch38.vcf", lines), []


def _already_loaded(tmp: Path) -> tuple[Path, list[str]]:
    copy = tmp / "NA12877.again.vcf"
    with gzip.open(NA12877, "rt") as fh:
        copy.write_text(fh.read().replace("##source", "##note=resubmitted\n##source", 1))
    return copy, []


CASES: dict[str, tuple[Callable[[Path], tuple[Path, list[str]]], str]] = {
    "truncated_gzip": (_truncated, "truncated"),
    "not_a_vcf": (_not_vcf, "not a VCF"),
    "header_without_chrom_line": (_no_chrom_line, "#CHROM"),
    "extra_sample_column": (_wrong_columns, "line "),
    "missing_sample_columns": (_missing_columns, "record"),
    "truncated_plain_gzip": (_plain_gzip_truncated, "truncated"),
    "unsorted_records": (_unsorted, "sort the file"),
    "ref_not_matching_reference": (_ref_mismatch, "REF"),
    "duplicate_sample_ids": (_duplicate_samples, "uplicate"),
    "sample_sheet_missing_a_vcf_sample": (_sheet_missing_sample, "not in the sample sheet"),
    "sample_sheet_listing_an_absent_sample": (_sheet_with_extra_sample, "in none of the VCFs"),
    "sample_sheet_with_unknown_sex": (_sheet_bad_sex, "line 2"),
    "sample_sheet_with_an_unknown_hpo_term": (_sheet_unknown_hpo_term, "line 2: phenotype of 'NA12878': HP:9999999"),
    "sample_sheet_with_an_unreadable_age": (_sheet_bad_age, "line 2: age 'forty-two'"),
    "unknown_assembly": (_unknown_assembly, "unknown assembly"),
    "file_of_another_assembly": (_other_assembly, "GRCh38"),
    "sample_already_loaded": (_already_loaded, "--replace"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input__clear_error_non_zero_exit_store_unchanged(case: str, node: Path, tmp_path: Path) -> None:
    make, expected = CASES[case]
    bad, extra = make(tmp_path)
    before = store_snapshot(node)
    code, output = _run(node, "ingest", str(bad), "--dataset", "ceph", "--centre", "utah", *extra)
    assert code == 1, output
    message = output.strip()
    assert message.startswith("error:"), message
    assert expected in message, message
    assert bad.name in message or any(str(a) in message for a in extra), message
    assert store_snapshot(node) == before


def test_bad_input__error_is_one_line(node: Path, tmp_path: Path) -> None:
    bad, _ = _unsorted(tmp_path)
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(node), "ingest", str(bad), "--dataset", "ceph", "--centre", "utah"],
        terminal_width=10_000,
    )
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_bad_input__replace_supersedes_an_already_loaded_sample(node: Path, tmp_path: Path) -> None:
    again, _ = _already_loaded(tmp_path)
    code, out = _run(node, "ingest", str(again), "--dataset", "ceph", "--centre", "utah", "--replace")
    assert code == 0, out
    code, out = _run(node, "datasets")
    assert out.splitlines()[1].split("\t")[2] == "1"  # still one sample, now from the new file


def test_bad_input__a_bad_file_among_good_ones_loads_none(node: Path, tmp_path: Path) -> None:
    bad, _ = _unsorted(tmp_path)
    good = tmp_path / "good.vcf.gz"
    shutil.copy(NA12878, good)
    before = store_snapshot(node)
    code, out = _run(node, "ingest", str(good), str(bad), "--dataset", "ceph", "--centre", "utah")
    assert code == 1, out
    assert store_snapshot(node) == before
