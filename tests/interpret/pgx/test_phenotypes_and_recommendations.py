"""Phenotypes from PharmCAT's maps and CPIC's recommendations, checked against the files themselves."""

from __future__ import annotations

import pytest

from genomenode.interpret.pgx.phenotypes import PhenotypeResult, combine_ties, parse_phenotypes, slco1b1_fallback
from genomenode.interpret.pgx.recommendations import NO_RECOMMENDATION, parse_recommendations
from genomenode.store.pgx_reference import default_folder

pytestmark = pytest.mark.skipif(not default_folder().is_dir(), reason="PharmCAT reference data not beside the checkout")


def _knowledge():  # type: ignore[no-untyped-def]
    from genomenode.pgx.knowledge import knowledge

    return knowledge()


def test_phenotypes__every_diplotype_of_every_map_looks_up_to_its_own_phenotype_in_either_order() -> None:
    reference = _knowledge().reference
    checked = 0
    for gene, doc in reference.phenotypes.items():
        table = parse_phenotypes(doc)
        for entry in doc["diplotypes"]:
            alleles = [a for a, n in entry["diplotypekey"].items() for _ in range(int(n))]
            want = entry.get("generesult") or entry.get("phenotype")
            for order in (alleles, alleles[::-1]):
                found = table.lookup(order)
                assert (found.phenotype, found.activity_score) == (want, entry.get("activityScore")), (gene, order)
            checked += 1
    assert checked > 10_000


def test_phenotypes__an_allele_without_a_cpic_function_is_not_translated_and_says_why() -> None:
    table = parse_phenotypes(_knowledge().reference.phenotypes["CYP2C19"])
    found = table.lookup(("*1", "*999"))
    assert found.phenotype is None and "no CPIC function for *999" in found.warnings[0]


def test_phenotypes__dpyd_takes_the_two_lowest_activity_alleles_and_reads_normal_ones_as_reference() -> None:
    table = parse_phenotypes(_knowledge().reference.phenotypes["DPYD"])
    no_function = min(table.activity, key=table.activity_value)
    normal = next(a for a, v in table.activity.items() if float(v) == 1.0 and a != "Reference")
    assert table.lowest_function_pair([normal], "Reference") == ("Reference", "Reference")
    assert table.lowest_function_pair([normal, no_function], "Reference") == ("Reference", no_function)
    assert table.lowest_function_pair([f"[{normal} + {no_function}]"], "Reference")[1] == no_function


def test_combine_ties__one_phenotype_when_ties_agree_none_with_the_reasons_when_not() -> None:
    a, b = PhenotypeResult("Normal Metabolizer", None), PhenotypeResult("Poor Metabolizer", None)
    assert combine_ties([a, a], ["*1/*2", "*3/*4"]).phenotype == "Normal Metabolizer"
    mixed = combine_ties([a, b], ["*1/*2", "*3/*4"])
    assert mixed.phenotype is None and "*3/*4 → Poor Metabolizer" in mixed.warnings[-1]


def test_slco1b1_fallback__counts_c_alleles_at_rs4149056() -> None:
    assert [slco1b1_fallback(g, ref="T", alt="C") for g in (("T", "T"), ("T", "C"), ("C", "C"))] == [
        "Normal Function",
        "Decreased Function",
        "Poor Function",
    ]
    assert slco1b1_fallback(("T", "G"), ref="T", alt="C") is None


def test_recommendations__every_phenotype_a_map_gives_has_a_row_for_each_of_its_genes_drugs() -> None:
    k = _knowledge()
    gaps = []
    for gene, table in k.phenotypes.items():
        drugs = {r.drug for r in k.recommendations.rows if len(r.genes) == 1 and r.genes[0][0] == gene}
        for phenotype in {p for p, _ in table.diplotypes.values() if p}:
            found = {r.drug for r in k.recommendations.for_phenotypes({gene: phenotype})}
            gaps += [(gene, phenotype, d) for d in sorted(drugs - found)]
    assert gaps == []


def test_recommendations__two_gene_drugs_use_the_row_for_an_unknown_gene_and_keep_no_recommendation_rows() -> None:
    rows = [
        {"Drug": "azathioprine", "Gene1": "NUDT15", "Phenotype1": "Normal Metabolizer", "Gene2": "TPMT",
         "Phenotype2": "Poor Metabolizer", "Recommendation": "alternative"},
        {"Drug": "azathioprine", "Gene1": "NUDT15", "Phenotype1": "Normal Metabolizer", "Gene2": "TPMT",
         "Phenotype2": None, "Recommendation": "based on NUDT15"},
        {"Drug": "tacrolimus", "Gene1": "CYP3A5", "Phenotype1": "Indeterminate", "Gene2": None,
         "Phenotype2": None, "Recommendation": None},
    ]  # fmt: skip
    table = parse_recommendations(
        rows, [{"Gene": "NUDT15", "Drug": "azathioprine", "Guideline": "u", "CPICLevel": "A"}]
    )
    (only_nudt15,) = table.for_phenotypes({"NUDT15": "Normal Metabolizer"})
    assert only_nudt15.text == "based on NUDT15" and only_nudt15.guideline == "u"
    (both,) = table.for_phenotypes({"NUDT15": "Normal Metabolizer", "TPMT": "Poor Metabolizer"})
    assert both.text == "alternative"
    (none,) = table.for_phenotypes({"CYP3A5": "Indeterminate"})
    assert none.as_dict()["recommendation"] == NO_RECOMMENDATION and not none.as_dict()["has_recommendation"]
