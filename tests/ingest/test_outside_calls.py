"""PharmCAT outside-call files: the documented format read, every malformed line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomenode.errors import PgxError
from genomenode.ingest.outside_calls import normalise_phenotype, read_outside_calls


def test_read_outside_calls__reads_pharmcats_documented_example(tmp_path: Path) -> None:
    path = tmp_path / "outside.tsv"
    path.write_text(
        "# from Cyrius\nCYP2D6\t*1/*3\nCYP2C9\t\t\t2.0\nG6PD\tB (wildtype)/B (wildtype)\n"
        "HLA-B\t\t*57:01 positive\nMT-RNR1\t1555A>G\n\n",
        encoding="utf-8",
    )
    calls = {c.gene: c for c in read_outside_calls(path)}
    assert list(calls) == ["CYP2D6", "CYP2C9", "G6PD", "HLA-B", "MT-RNR1"]
    assert calls["CYP2D6"].alleles == ("*1", "*3") and calls["CYP2D6"].source == f"{path}:2"
    assert (calls["CYP2C9"].diplotype, calls["CYP2C9"].activity_score) == (None, "2.0")
    assert calls["G6PD"].alleles == ("B (wildtype)", "B (wildtype)")
    assert calls["MT-RNR1"].alleles == ("1555A>G",)


def test_normalise_phenotype__spells_synonyms_and_keeps_modifiers() -> None:
    assert normalise_phenotype("PM") == "Poor Metabolizer"
    assert normalise_phenotype("EM") == "Normal Metabolizer"  # CPIC says normal, not extensive
    assert normalise_phenotype("likely poor   metaboliser") == "Likely Poor Metabolizer"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("CYP2D6\n", "no diplotype, phenotype or activity score"),
        ("cyp2d6\t*1/*2\n", "not an HGNC gene symbol"),
        ("CYP2D6\t*1/*2\tNM\t2.0\textra\n", "at most 4"),
        ("CYP2D6\t*1/*2/*3\n", "more than two alleles"),
        ("CYP2D6\t*1/*2\nCYP2D6\t*1/*4\n", "already called on line 1"),
    ],
)
def test_read_outside_calls__a_malformed_line_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "outside.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PgxError, match=message) as info:
        read_outside_calls(path)
    assert str(path) in str(info.value)


def test_read_outside_calls__a_file_not_in_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "outside.tsv"
    path.write_bytes("CYP2D6\t*1\u22653/*4\n".encode("utf-16"))
    with pytest.raises(PgxError, match="not UTF-8"):
        read_outside_calls(path)
