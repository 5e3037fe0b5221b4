"""CPIC's recommendations (pypgx's tables) against PharmCAT's phenotype vocabulary, and how rows are chosen."""

from __future__ import annotations

import itertools
import re

import pytest

from genomenode.interpret.pgx.phenotypes import GenePhenotypes, parse_phenotypes
from genomenode.interpret.pgx.recommendations import (
    NO_RECOMMENDATION,
    STATUS_TEXT,
    Guideline,
    RecommendationTable,
    parse_recommendations,
    spelled,
)
from genomenode.store.pgx_reference import default_folder, load_guidelines, load_recommendations, load_reference

needs_reference = pytest.mark.skipif(
    not default_folder().is_dir(), reason="PharmCAT reference data not beside the checkout"
)

# Genuine gaps between PharmCAT's 2025-11 phenotype maps and pypgx 0.27.0's CPIC table, each with
# its reason. The tests below fail when a gap appears or closes, so this list stays true.
MAPS_WITHOUT_PHENOTYPES = {
    "IFNL3": "its map lists allele functions but no diplotypes, so peginterferon/ribavirin rows are unreachable",
}
MAPS_WITHOUT_ROWS = {
    "CYP3A4": "DPWG-only gene, no CPIC guideline",
    "NAT2": "no CPIC recommendation table in pypgx",
    "MT-RNR1": "CPIC's aminoglycoside guideline (2021) is not in pypgx's table",
    "VKORC1": "warfarin is a dosing algorithm, not a phenotype table; pypgx has no warfarin rows",
}


@pytest.fixture(scope="module")
def table() -> RecommendationTable:
    return parse_recommendations(load_recommendations(), load_guidelines())


@pytest.fixture(scope="module")
def maps() -> dict[str, GenePhenotypes]:
    return {gene: parse_phenotypes(doc) for gene, doc in load_reference().phenotypes.items()}


@needs_reference
def test_vocabulary__every_phenotype_a_map_gives_has_a_row_for_every_drug_of_its_gene(
    table: RecommendationTable, maps: dict[str, GenePhenotypes]
) -> None:
    gaps = []
    for gene, phenotypes in maps.items():
        for phenotype in sorted(phenotypes.phenotype_vocabulary):
            by_drug = {r.drug: r for r in table.for_phenotypes({gene: phenotype})}
            for drug in sorted(table.drugs(gene)):
                if by_drug[drug].status not in ("recommendation", "no_recommendation"):
                    gaps.append((gene, phenotype, drug, by_drug[drug].status))
                elif by_drug[drug].genes[gene] != spelled(gene, phenotype):
                    gaps.append((gene, phenotype, drug, "chosen on another phenotype"))
    assert gaps == []


@needs_reference
def test_vocabulary__genes_the_table_covers_whose_map_gives_no_phenotype_are_the_known_ones(
    table: RecommendationTable, maps: dict[str, GenePhenotypes]
) -> None:
    silent = {g for g, m in maps.items() if table.drugs(g) and not m.phenotype_vocabulary}
    assert silent == set(MAPS_WITHOUT_PHENOTYPES)


@needs_reference
def test_vocabulary__maps_whose_gene_has_no_rows_are_the_known_ones(
    table: RecommendationTable, maps: dict[str, GenePhenotypes]
) -> None:
    assert {g for g in maps if not table.drugs(g)} == set(MAPS_WITHOUT_ROWS)


@needs_reference
def test_vocabulary__only_cftr_spellings_differ_between_the_maps_and_the_table(
    table: RecommendationTable, maps: dict[str, GenePhenotypes]
) -> None:
    differ = {
        (g, p)
        for g, m in maps.items()
        if table.drugs(g)
        for p in m.phenotype_vocabulary
        if p not in table.vocabulary(g)
    }
    assert {g for g, _ in differ} <= {"CFTR"}
    assert all(spelled(g, p) in table.vocabulary(g) for g, p in differ)


def test_two_gene_drugs__every_pair_of_the_tables_phenotypes_and_one_gene_unknown_has_a_row(
    table: RecommendationTable,
) -> None:
    two_gene = sorted({r.drug for r in table.rows if len(r.genes) == 2})
    assert {"azathioprine", "mercaptopurine", "thioguanine", "rosuvastatin", "fluvastatin"} <= set(two_gene)
    for drug in two_gene:
        (g1, g2) = next(r for r in table.rows if r.drug == drug).genes
        first, second = g1[0], g2[0]
        for p1, p2 in itertools.product(
            [*table.vocabulary(first, drug), None], [*table.vocabulary(second, drug), None]
        ):
            if p1 is None and p2 is None:
                continue
            (found,) = [r for r in table.for_phenotypes({first: p1, second: p2}) if r.drug == drug]
            assert found.status in ("recommendation", "no_recommendation"), (drug, p1, p2)
            assert dict(found.genes) == {first: p1, second: p2}


def test_two_gene_drugs__one_gene_known_uses_cpics_row_for_the_other_unknown(table: RecommendationTable) -> None:
    # GIVEN the table's own row for azathioprine with NUDT15 known and TPMT without a result
    row = next(r for r in table.rows if r.drug == "azathioprine" and r.genes[1][1] is None and r.genes[0][1])
    nudt15 = row.genes[0][1]
    # WHEN only NUDT15 is known THEN that row, its text, is the recommendation
    (found,) = [r for r in table.for_phenotypes({"NUDT15": nudt15}) if r.drug == "azathioprine"]
    assert found.text == row.text and found.genes == {"NUDT15": nudt15, "TPMT": None}


def test_no_recommendation_rows__are_reported_as_such_not_dropped(table: RecommendationTable) -> None:
    silent = [r for r in table.rows if r.text is None and len(r.genes) == 1 and r.genes[0][1] is not None]
    assert silent
    for row in silent:
        gene, phenotype = row.genes[0]
        assert phenotype is not None
        (found,) = [r for r in table.for_phenotypes({gene: phenotype}) if r.drug == row.drug]
        assert found.status == "no_recommendation" and not found.has_recommendation
        assert found.as_dict()["recommendation"] == NO_RECOMMENDATION


def test_no_row__a_phenotype_the_table_does_not_write_is_reported_with_what_was_asked(
    table: RecommendationTable,
) -> None:
    # DPYD has no Indeterminate row, which PharmCAT gives an untranslatable DPYD diplotype
    assert "Indeterminate" not in table.vocabulary("DPYD")
    found = [r for r in table.for_phenotypes({"DPYD": "Indeterminate"}) if r.drug in table.drugs("DPYD")]
    assert {r.drug for r in found} == set(table.drugs("DPYD"))
    assert all(r.status == "no_row" and r.genes == {"DPYD": "Indeterminate"} for r in found)
    assert found[0].as_dict()["recommendation"] == STATUS_TEXT["no_row"]


def _lacking(table: RecommendationTable) -> dict[tuple[str, str], Guideline]:
    """Gene-drug pairs CPIC has an A/B-level guideline for and the recommendation table has no rows for."""
    tabled = {(g, r.drug) for r in table.rows for g, _ in r.genes}
    return {k: v for k, v in table.guidelines.items() if v.url and v.level in ("A", "B") and k not in tabled}


def test_not_in_table__a_guideline_the_table_lacks_gets_an_entry_pointing_to_it(table: RecommendationTable) -> None:
    lacking = _lacking(table)
    assert {("CYP2C9", "warfarin"), ("G6PD", "rasburicase"), ("CYP2B6", "sertraline")} <= set(lacking)
    for (gene, drug), guideline in lacking.items():
        found = [r for r in table.for_phenotypes({gene: "Normal Metabolizer"}) if r.drug == drug]
        assert [(r.status, r.guideline) for r in found] == [("not_in_table", guideline.url)], (gene, drug)
        assert found[0].as_dict()["recommendation"] == STATUS_TEXT["not_in_table"]


def test_not_in_table__a_guideline_gene_the_drugs_rows_lack_is_a_note_on_the_drugs_entry(
    table: RecommendationTable,
) -> None:
    # GIVEN sertraline, whose rows are by CYP2C19 while CPIC's guideline also uses CYP2B6
    cyp2c19 = sorted(table.vocabulary("CYP2C19", "sertraline"))[0]
    guideline = _lacking(table)[("CYP2B6", "sertraline")]
    # WHEN both genes are known THEN the CYP2C19 row, with a note sending the reader to the guideline
    (found,) = [
        r for r in table.for_phenotypes({"CYP2C19": cyp2c19, "CYP2B6": "Poor Metabolizer"}) if r.drug == "sertraline"
    ]
    assert found.status in ("recommendation", "no_recommendation") and found.genes == {"CYP2C19": cyp2c19}
    assert any("CYP2B6 (Poor Metabolizer)" in n and str(guideline.url) in n for n in found.notes)


def test_not_in_table__guidelines_without_a_prescribing_action_add_nothing(table: RecommendationTable) -> None:
    # CPIC level C/D pairs (tegafur by DPYD, the statins by CYP3A4/CYP3A5) have no prescribing action
    tabled = {(g, r.drug) for r in table.rows for g, _ in r.genes}
    quiet = [k for k, v in table.guidelines.items() if v.url and v.level not in ("A", "B") and k not in tabled]
    assert ("DPYD", "tegafur") in quiet
    for gene, drug in quiet:
        found = [r for r in table.for_phenotypes({gene: "Normal Metabolizer"}) if r.drug == drug]
        assert all(r.status != "not_in_table" and not any(gene in n for n in r.notes) for r in found), (gene, drug)


def test_guideline__each_recommendation_cites_cpics_guideline_and_level(table: RecommendationTable) -> None:
    phenotype = sorted(table.vocabulary("CYP2C19", "clopidogrel"))[0]
    (found,) = [r for r in table.for_phenotypes({"CYP2C19": phenotype}) if r.drug == "clopidogrel"]
    cited = table.guidelines[("CYP2C19", "clopidogrel")]
    assert (found.guideline, found.cpic_level, found.source) == (cited.url, cited.level, "CPIC")
    assert found.guideline and found.guideline.startswith("https://")


def test_activity_scores__add_a_note_to_check_the_score_against_the_guideline(table: RecommendationTable) -> None:
    phenotype = sorted(table.vocabulary("CYP2C9", "celecoxib"))[0]
    (plain,) = [r for r in table.for_phenotypes({"CYP2C9": phenotype}) if r.drug == "celecoxib"]
    (scored,) = [
        r
        for r in table.for_phenotypes({"CYP2C9": phenotype}, activity_scores={"CYP2C9": "1.0"})
        if r.drug == "celecoxib"
    ]
    assert plain.notes == () and "activity score here is 1.0" in scored.notes[0]


def test_text__is_cpics_as_written_less_stray_control_characters(table: RecommendationTable) -> None:
    raw = [r["Recommendation"] for r in load_recommendations()]
    texts = [r.text for r in table.rows]
    assert len(texts) == len(raw)
    assert any(x and "\x01" in x for x in raw)  # the IFNL3 rows carry U+0001
    for text, written in zip(texts, raw, strict=True):
        assert text == (written.replace("\x01", "") if written is not None else None)
        assert text is None or not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)


def test_as_dict__has_the_fields_the_report_reads(table: RecommendationTable) -> None:
    (found,) = [r for r in table.for_phenotypes({"CYP3A5": "Poor Metabolizer"}) if r.drug == "tacrolimus"]
    assert set(found.as_dict()) == {
        "drug",
        "genes",
        "recommendation",
        "has_recommendation",
        "status",
        "guideline",
        "cpic_level",
        "source",
        "notes",
    }


def test_parse_recommendations__rows_without_a_drug_or_gene_are_skipped_and_none_cells_kept() -> None:
    rows = [
        {"Drug": "d", "Gene1": "G", "Phenotype1": "Poor Metabolizer", "Gene2": None, "Phenotype2": None,
         "Recommendation": None},
        {"Drug": None, "Gene1": "G", "Phenotype1": "x", "Gene2": None, "Phenotype2": None, "Recommendation": "y"},
    ]  # fmt: skip
    parsed = parse_recommendations(rows)
    assert len(parsed.rows) == 1 and parsed.rows[0].text is None
    assert parsed.for_phenotypes({"G": "Normal Metabolizer"})[0].status == "no_row"
    assert parsed.for_phenotypes({"H": "Normal Metabolizer"}) == []
