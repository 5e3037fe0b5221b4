"""Sample sheets: what a centre says of each person's health (phenotypes, diseases, age), read and
checked before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from genomenode.errors import SampleSheetError
from genomenode.ingest.samplesheet import read_sample_sheet
from genomenode.store.hpo import Hpo

HEADER = "sample_id\tsubject_id\tsex\tphenotypes\tdiseases\tage"


def _sheet(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _resolver(hpo: Hpo) -> Callable[[str], str]:
    def resolve(term: str) -> str:
        primary = hpo.resolve(term)
        if primary is None:
            raise LookupError(hpo.problem(term))
        return primary

    return resolve


def test_read_sample_sheet__phenotypes_diseases_and_age(tmp_path: Path, hpo: Hpo) -> None:
    path = _sheet(
        tmp_path,
        "S1\tP1\tfemale\tHP:0001250; hp:0001249,-HP:0001638\tOMIM:607208;orphanet:33069\tP42Y6M",
        "S2\tP2\tmale\t\t\t17",
        "S3\tP3\tmale\t!HP:0000365\tMONDO:0007947\t",
    )
    s1, s2, s3 = read_sample_sheet(path, default_centre="c", resolve_hpo=_resolver(hpo))
    assert (s1.phenotypes, s1.excluded_phenotypes) == (("HP:0001250", "HP:0001249"), ("HP:0001638",))
    assert s1.diseases == ("OMIM:607208", "ORPHA:33069") and s1.age_years == pytest.approx(42.5)
    assert (s2.phenotypes, s2.excluded_phenotypes, s2.diseases, s2.age_years) == ((), (), (), 17.0)
    assert (s3.excluded_phenotypes, s3.diseases, s3.age_years) == (("HP:0000365",), ("MONDO:0007947",), None)


def test_read_sample_sheet__column_aliases_and_a_sheet_without_them(tmp_path: Path) -> None:
    path = _sheet(tmp_path, "S1\tHP:0001250\tOMIM:154700\t3", header="sample_id\thpo_terms\tdiagnosis\tage_years")
    [row] = read_sample_sheet(path, default_centre="c")
    assert (row.phenotypes, row.diseases, row.age_years) == (("HP:0001250",), ("OMIM:154700",), 3.0)
    [plain] = read_sample_sheet(_sheet(tmp_path, "S1\tP1", header="sample_id\tsubject_id"), default_centre="c")
    assert (plain.phenotypes, plain.excluded_phenotypes, plain.diseases, plain.age_years) == ((), (), (), None)


def test_read_sample_sheet__an_alternative_hpo_id_is_kept_as_its_primary_term(tmp_path: Path, hpo: Hpo) -> None:
    path = _sheet(tmp_path, "S1\tP1\tfemale\tHP:0001275\t\t")  # an alt_id of Seizure
    [row] = read_sample_sheet(path, default_centre="c", resolve_hpo=_resolver(hpo))
    assert row.phenotypes == ("HP:0001250",)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("HP:12345\t\t", r"line 2: phenotype 'HP:12345' of 'S1' is not an HPO id; write HP: and seven digits"),
        ("Seizures\t\t", r"phenotype 'Seizures' of 'S1' is not an HPO id"),
        ("HP:9999999\t\t", r"line 2: phenotype of 'S1': HP:9999999 is not a term of HPO \d{4}-\d\d-\d\d"),
        ("HP:0001250;-HP:0001250\t\t", r"HP:0001250 of 'S1' is given both as present and as excluded"),
        ("\tOMIM:12\t", r"line 2: disease 'OMIM:12' of 'S1' is not an OMIM, ORPHA or MONDO id; write e.g."),
        ("\tDOID:1234\t", r"disease 'DOID:1234'"),
        ("\t\tforty", r"line 2: age 'forty' is neither a number of years .* for 'S1'; give the age"),
        ("\t\tP42X", r"'P42X' is not an ISO 8601 duration"),
        ("\t\t200", r"age '200' is outside 0 to 150 years"),
    ],
)
def test_read_sample_sheet__bad_cells_name_file_line_value_and_fix(
    tmp_path: Path, hpo: Hpo, cells: str, message: str
) -> None:
    path = _sheet(tmp_path, f"S1\tP1\tfemale\t{cells}")
    with pytest.raises(SampleSheetError, match=message) as caught:
        read_sample_sheet(path, default_centre="c", resolve_hpo=_resolver(hpo))
    assert str(caught.value).startswith(f"{path}: line 2:")


def test_read_sample_sheet__an_obsolete_term_without_replacement_says_what_to_consider(
    tmp_path: Path, hpo: Hpo
) -> None:
    obsolete = next(iter(hpo.obsolete))
    path = _sheet(tmp_path, f"S1\tP1\tfemale\t{obsolete}\t\t")
    with pytest.raises(SampleSheetError, match=f"{obsolete} is obsolete in HPO"):
        read_sample_sheet(path, default_centre="c", resolve_hpo=_resolver(hpo))


def test_read_sample_sheet__two_samples_of_one_person_must_agree(tmp_path: Path) -> None:
    agreeing = _sheet(tmp_path, "S1\tP1\tfemale\tHP:0001250\t\t40", "S2\tP1\tfemale\t\tOMIM:607208\t40")
    assert len(read_sample_sheet(agreeing, default_centre="c")) == 2
    disagreeing = _sheet(tmp_path, "S1\tP1\tfemale\tHP:0001250\t\t", "S2\tP1\tfemale\tHP:0001249\t\t")
    with pytest.raises(SampleSheetError, match=r"line 3: phenotypes of sample 'S2' differ from line 2 \('S1'\)"):
        read_sample_sheet(disagreeing, default_centre="c")
    ages = _sheet(tmp_path, "S1\tP1\tfemale\t\t\t40", "S2\tP1\tfemale\t\t\tP41Y")
    with pytest.raises(SampleSheetError, match="age of sample 'S2' differ"):
        read_sample_sheet(ages, default_centre="c")
