"""Protein changes read from the forms people and annotators write: one- and three-letter codes,
HGVS prefixes, bcftools csq's amino_acid_change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genomenode.domain.protein_change import (
    ONE_LETTER,
    ProteinChange,
    from_bcftools,
    parse_protein_change,
    read_protein_change,
)
from genomenode.errors import InvalidVariantError

V600E = ProteinChange("Val", 600, ("Glu",))


@pytest.mark.parametrize(
    "text",
    [
        "V600E",
        "p.V600E",
        "p.Val600Glu",
        "p.(Val600Glu)",
        "ENSP00000493543.1:p.Val600Glu",
        "NP_004324.2:p.V600E",
        " p.Val600Glu ",
    ],
)
def test_parse__every_spelling_of_v600e_is_one_change(text: str) -> None:
    assert parse_protein_change(text) == V600E
    assert str(parse_protein_change(text)) == "p.Val600Glu"


@pytest.mark.parametrize(
    ("text", "canonical", "one_letter"),
    [
        ("R1659*", "p.Arg1659Ter", "R1659*"),
        ("p.Arg1659Ter", "p.Arg1659Ter", "R1659*"),
        ("R1659X", "p.Arg1659Ter", "R1659*"),  # X for a stop, as older papers write it
        ("p.His1863=", "p.His1863=", "H1863="),
        ("p.His1863His", "p.His1863=", "H1863="),  # snpEff's synonymous spelling
        ("F508del", "p.Phe508del", "F508del"),
        ("p.Lys825_Met827del", "p.Lys825_Met827del", "K825_M827del"),
        ("p.Asp825GlufsTer21", "p.Asp825GlufsTer21", "D825Efs*21"),
        ("p.Met1?", "p.Met1?", "M1?"),
    ],
)
def test_parse__writes_three_letter_hgvs_and_reads_back_one_letter(text: str, canonical: str, one_letter: str) -> None:
    change = parse_protein_change(text)
    assert str(change) == canonical and change.one_letter == one_letter
    assert parse_protein_change(change.one_letter) == change


@pytest.mark.parametrize(
    "text", ["V600", "600E", "VAL600GLU", "v600e", "p.?", "p.0", "BRAF", "V600E!", "p.Val0Glu", ""]
)
def test_parse__refuses_what_is_not_a_protein_change_and_says_what_is(text: str) -> None:
    with pytest.raises(InvalidVariantError, match=r"V600E, p\.V600E or p\.Val600Glu") as info:
        parse_protein_change(text)
    assert repr(text) in str(info.value)
    assert read_protein_change(text) is None


def test_matches__a_frameshift_asked_without_details_matches_any_at_that_residue() -> None:
    annotated = parse_protein_change("p.Asp825GlufsTer21")
    assert parse_protein_change("D825fs").matches(annotated)
    assert parse_protein_change("D825Efs*21").matches(annotated)
    assert not parse_protein_change("D825Vfs*3").matches(annotated)
    assert not parse_protein_change("D826fs").matches(annotated)
    assert not parse_protein_change("D825del").matches(annotated)


def test_matches__substitutions_compare_exactly() -> None:
    assert V600E.matches(parse_protein_change("p.Val600Glu"))
    assert not V600E.matches(parse_protein_change("V600K"))
    assert not V600E.matches(parse_protein_change("V640E"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("600V>600E", V600E),
        ("1659R>1659*", ProteinChange("Arg", 1659, ("Ter",))),
        ("1863H", ProteinChange("His", 1863, ("=",))),
        ("38YQSTLS*>38SE*", None),  # a frameshift's whole new sequence: no HGVS form here
        ("2M>3K", None),
    ],
)
def test_from_bcftools__reads_substitutions_and_synonymous_changes(text: str, expected: ProteinChange | None) -> None:
    assert from_bcftools(text) == expected


_ONE = sorted(set(ONE_LETTER.values()) - {"*"})


@given(ref=st.sampled_from(_ONE), alt=st.sampled_from([*_ONE, "*"]), position=st.integers(1, 40_000))
def test_parse__one_and_three_letter_forms_agree(ref: str, alt: str, position: int) -> None:
    one = parse_protein_change(f"{ref}{position}{alt}")
    three = read_protein_change(str(one))
    assert three == one
    assert one.one_letter == (f"{ref}{position}=" if ref == alt else f"{ref}{position}{alt}")
