"""PED files and Phenopacket v2 Families become pedigrees; every error names the file and line (or field)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genomenode.domain.pedigree import Affection, Sex
from genomenode.errors import PedigreeError
from genomenode.ingest.pedigree import parse_ped, parse_phenopacket_family, read_ped, read_phenopacket_family
from tests.conftest import PLATINUM


def test_read_ped__platinum_ceph1463_is_three_generations() -> None:
    [(family_id, ped)] = read_ped(PLATINUM / "ceph1463.ped").items()
    assert family_id == "CEPH1463" and len(ped) == 17
    assert {m.id for m in ped.founders()} == {"NA12889", "NA12890", "NA12891", "NA12892"}
    assert len(ped.trios()) == 13
    assert ped.member("NA12878").sex is Sex.FEMALE and ped.member("NA12877").sex is Sex.MALE
    assert all(m.affection is Affection.UNKNOWN for m in ped)  # -9 everywhere
    assert [c.id for c in ped.children_of("NA12891")] == ["NA12878"]


def test_parse_ped__comments_spaces_tabs_unknown_codes_and_extra_columns() -> None:
    text = (
        "#family_id individual_id paternal_id maternal_id sex phenotype ethnicity\n"
        "\n"
        "F1 dad 0 0 1 1 EUR\n"
        "F1\tmum\t-9\t0\t2\t-9\n"
        "F1   kid  dad  mum  0   2\n"
        "F2 solo 0 0 2 0\n"
    )
    families = parse_ped(text, source="x.ped")
    assert list(families) == ["F1", "F2"]
    f1 = families["F1"]
    kid = f1.member("kid")
    assert (kid.father, kid.mother, kid.sex, kid.affection) == ("dad", "mum", Sex.UNKNOWN, Affection.AFFECTED)
    assert f1.member("mum").father is None and f1.member("mum").affection is Affection.UNKNOWN
    assert f1.member("dad").affection is Affection.UNAFFECTED
    assert families["F2"].member("solo").affection is Affection.UNKNOWN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("F1 a 0 0 1\n", r"x\.ped: line 1: 5 columns; a PED line needs six"),
        ("# header\nF1 a 0 0 3 1\n", r"x\.ped: line 2: sex '3' for a"),
        ("F1 a 0 0 1 1.5\n", r"x\.ped: line 1: phenotype '1\.5' for a.*quantitative"),
        ("F1 a 0 0 1 1\nF1 a 0 0 1 1\n", r"x\.ped: line 2: individual a appears again; first at line 1"),
        ("F1 a 0 0 1 1\nF2 a 0 0 1 1\n", r"line 2: individual a appears again \(line 1 puts it in family F1\)"),
        ("F1 kid dad 0 1 2\n", r"x\.ped: line 1: family F1: kid's father dad is not a member.*write 0"),
        ("F1 dad 0 0 2 1\nF1 kid dad 0 1 2\n", r"x\.ped: line 1: family F1: dad is the father of kid but is recorded"),
        ("F1 a b 0 1 1\nF1 b a 0 1 1\n", r"x\.ped: line \d: family F1: . is their own ancestor"),
        ("F1 0 0 0 1 1\n", r"line 1: individual id '0' is the unknown code"),
        ("# only a comment\n", r"x\.ped: no individuals"),
    ],
)
def test_parse_ped__errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(PedigreeError, match=message):
        parse_ped(text, source="x.ped")


def test_read_ped__missing_file_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(PedigreeError, match="PED file not found"):
        read_ped(tmp_path / "none.ped")
    bad = tmp_path / "bad.ped"
    bad.write_bytes(b"F1 \xff 0 0 1 1\n")
    with pytest.raises(PedigreeError, match="not UTF-8"):
        read_ped(bad)


def _family(**overrides: Any) -> dict[str, Any]:
    """A Phenopacket v2 Family in JSON form: an affected son, unaffected parents, one relative's phenopacket."""
    family: dict[str, Any] = {
        "id": "FAM7",
        "proband": {
            "id": "pp-kid",
            "subject": {"id": "kid", "sex": "MALE"},
            "phenotypicFeatures": [
                {"type": {"id": "HP:0001250", "label": "Seizure"}},
                {"type": {"id": "hp:0001249"}},
                {"type": {"id": "HP:0000365"}, "excluded": True},
            ],
            "metaData": {"created": "2024-01-01T00:00:00Z", "createdBy": "test", "phenopacketSchemaVersion": "2.0"},
        },
        "relatives": [{"id": "pp-mum", "subject": {"id": "mum", "sex": "FEMALE"}}],
        "consanguinousParents": True,
        "pedigree": {
            "persons": [
                {"familyId": "FAM7", "individualId": "dad", "sex": "MALE", "affectedStatus": "UNAFFECTED"},
                {"familyId": "FAM7", "individualId": "mum", "sex": "FEMALE", "affectedStatus": "UNAFFECTED"},
                {
                    "familyId": "FAM7",
                    "individualId": "kid",
                    "paternalId": "dad",
                    "maternalId": "mum",
                    "sex": "MALE",
                    "affectedStatus": "AFFECTED",
                },
                {"familyId": "FAM7", "individualId": "aunt", "paternalId": "0", "sex": "FEMALE"},
            ]
        },
        "metaData": {"created": "2024-01-01T00:00:00Z", "createdBy": "test", "phenopacketSchemaVersion": "2.0"},
    }
    family.update(overrides)
    return family


def test_parse_phenopacket_family__pedigree_proband_and_hpo_terms(tmp_path: Path) -> None:
    path = tmp_path / "family.json"
    path.write_text(json.dumps(_family()))
    fam = read_phenopacket_family(path)
    ped = fam.pedigree
    assert fam.proband == "kid" and ped.proband == "kid" and ped.family_id == "FAM7"
    assert ped.trios()[0].child == "kid"
    assert ped.member("kid").affection is Affection.AFFECTED and ped.member("dad").affection is Affection.UNAFFECTED
    assert ped.member("aunt").affection is Affection.UNKNOWN and ped.member("aunt").father is None
    assert fam.observed == {"kid": ("HP:0001250", "HP:0001249")}
    assert fam.excluded == {"kid": ("HP:0000365",)}
    assert fam.consanguineous is True


def test_parse_phenopacket_family__without_persons_is_the_proband_alone() -> None:
    fam = parse_phenopacket_family(json.dumps(_family(pedigree={}, relatives=[])))
    assert [m.id for m in fam.pedigree] == ["kid"] and fam.pedigree.member("kid").affected
    assert fam.pedigree.member("kid").sex is Sex.MALE and fam.pedigree.family_id == "FAM7"


def _persons(*changes: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    persons = _family()["pedigree"]["persons"]
    for i, change in changes:
        persons[i] = {**persons[i], **change}
    return {"persons": persons}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"probnd": {}}, r"fam\.json: not a Phenopacket v2 Family .*no field named \"probnd\""),
        ({"proband": {"id": "x"}}, r"proband\.subject\.id is empty"),
        ({"pedigree": _persons((2, {"maternalId": "granny"}))}, r"persons\[2\]: family FAM7: kid's mother granny"),
        ({"pedigree": _persons((0, {"sex": "FEMALE"}))}, r"persons\[0\]: family FAM7: dad is the father of kid"),
        ({"pedigree": _persons((3, {"familyId": "OTHER"}))}, r"persons\[3\]: aunt has familyId OTHER"),
        ({"relatives": [{"id": "r", "subject": {"id": "uncle"}}]}, r"relatives\[0\]\.subject\.id uncle is not in"),
        ({"relatives": [{"id": "r", "subject": {"id": "mum", "sex": "MALE"}}]}, r"mum is male but .* says female"),
        (
            {"relatives": [{"id": "r", "subject": {"id": "mum"}, "phenotypicFeatures": [{"type": {"id": "MONDO:1"}}]}]},
            r"relatives\[0\]\.phenotypicFeatures\[0\]\.type\.id 'MONDO:1' is not an HPO id",
        ),
    ],
)
def test_parse_phenopacket_family__errors_name_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PedigreeError, match=message):
        parse_phenopacket_family(json.dumps(_family(**overrides)), source="fam.json")


def test_parse_phenopacket_family__proband_missing_from_pedigree() -> None:
    family = _family()
    family["proband"]["subject"]["id"] = "stranger"
    with pytest.raises(PedigreeError, match="proband stranger is not a member"):
        parse_phenopacket_family(json.dumps(family))
