"""Diplotype → phenotype from PharmCAT's maps, checked against the map files themselves."""

from __future__ import annotations

from typing import Any

import pytest

from genomenode.interpret.pgx.definitions import sequence_name_key
from genomenode.interpret.pgx.phenotypes import (
    INDETERMINATE,
    LOWEST_FUNCTION_GENES,
    GenePhenotypes,
    lowest_function_phased,
    lowest_function_unphased,
    parse_phenotypes,
    phenotype_of,
    phenotype_of_ties,
)
from genomenode.store.pgx_reference import PgxReference, default_folder, load_reference

pytestmark = pytest.mark.skipif(not default_folder().is_dir(), reason="PharmCAT reference data not beside the checkout")


@pytest.fixture(scope="module")
def reference() -> PgxReference:
    return load_reference()


@pytest.fixture(scope="module")
def maps(reference: PgxReference) -> dict[str, GenePhenotypes]:
    return {gene: parse_phenotypes(doc) for gene, doc in reference.phenotypes.items()}


def _alleles(entry: dict[str, Any]) -> list[str]:
    return [a for a, n in entry["diplotypekey"].items() for _ in range(int(n))]


def _unmapped_alleles(reference: PgxReference, gene: str) -> list[str]:
    """Named alleles of the gene's definition that its phenotype map gives no function."""
    known = reference.phenotypes[gene]["haplotypes"]
    return [a["name"] for a in reference.definitions[gene]["namedAlleles"] if a["name"] not in known]


def test_lookup__every_diplotype_of_every_map_by_name_in_either_order_gives_its_phenotype_and_score(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    checked = 0
    for gene, doc in reference.phenotypes.items():
        for entry in doc["diplotypes"]:
            alleles = _alleles(entry)
            want = (entry["generesult"], entry["activityScore"])
            for name in ("/".join(alleles), "/".join(reversed(alleles))):
                found = maps[gene].lookup(name)
                assert (found.phenotype, found.activity_score) == want, (gene, name)
                assert found.warnings == ()
            checked += 1
    assert checked == sum(len(d["diplotypes"]) for d in reference.phenotypes.values()) > 10_000


def test_lookup__gives_each_alleles_cpic_function(reference: PgxReference, maps: dict[str, GenePhenotypes]) -> None:
    functions = reference.phenotypes["CYP2C19"]["haplotypes"]
    entry = next(e for e in reference.phenotypes["CYP2C19"]["diplotypes"] if len(e["diplotypekey"]) == 2)
    first, second = _alleles(entry)
    found = maps["CYP2C19"].lookup((first, second))
    assert (found.function_1, found.function_2) == (functions[first], functions[second])


def test_lookup__a_haploid_call_is_looked_up_where_the_map_has_single_allele_entries(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    haploid = [g for g, m in maps.items() if m.haploid]
    assert haploid, "no phenotype map with single-allele entries"
    for gene in haploid:
        for entry in reference.phenotypes[gene]["diplotypes"]:
            (allele,) = _alleles(entry)
            assert maps[gene].lookup([allele]).phenotype == entry["generesult"]


def test_lookup__one_allele_in_a_diploid_map_is_not_translated_and_says_so(maps: dict[str, GenePhenotypes]) -> None:
    table = maps["CYP2C19"]
    allele = next(iter(table.functions))
    found = table.lookup([allele])
    assert found.phenotype is None and "no single-allele (haploid) entries" in found.warnings[0]


def test_lookup__an_allele_without_cpic_function_is_indeterminate_for_an_activity_score_gene(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    # GIVEN a CYP2C9 named allele the definitions have but CPIC gives no function (PharmVar's newest)
    unmapped = _unmapped_alleles(reference, "CYP2C9")
    assert unmapped and maps["CYP2C9"].activity_gene
    reference_allele = next(a["name"] for a in reference.definitions["CYP2C9"]["namedAlleles"] if a["reference"])
    # WHEN it is looked up with the reference allele THEN PharmCAT's Indeterminate, with no score, and why
    found = maps["CYP2C9"].lookup((reference_allele, unmapped[0]))
    assert (found.phenotype, found.activity_score) == (INDETERMINATE, None)
    assert f"no CPIC function for {unmapped[0]}" in found.warnings[0]


def test_lookup__an_allele_without_cpic_function_has_no_phenotype_for_other_genes(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    for gene in ("CYP2C19", "NUDT15", "TPMT"):
        unmapped = _unmapped_alleles(reference, gene)
        assert unmapped and not maps[gene].activity_gene
        found = maps[gene].lookup((unmapped[0], unmapped[0]))
        assert found.phenotype is None and found.activity_score is None
        assert f"no CPIC function for {unmapped[0]}" in found.warnings[0]


def test_lookup__a_map_without_diplotypes_translates_nothing_and_says_so(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    empty = [g for g, doc in reference.phenotypes.items() if not doc["diplotypes"]]
    for gene in empty:  # IFNL3 in PharmCAT's 2025-11 data
        a, b = list(maps[gene].functions)[:2]
        found = maps[gene].lookup((a, b))
        assert found.phenotype is None and "lists no diplotypes" in found.warnings[0]


def test_phenotype_of__a_gene_without_a_map_gets_no_phenotype_and_a_warning(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    unmapped = sorted(set(reference.definitions) - set(reference.phenotypes))
    assert {"CYP2D6", "G6PD", "RYR1"} <= set(unmapped)
    for gene in unmapped:
        name = reference.definitions[gene]["namedAlleles"][0]["name"]
        found = phenotype_of(maps, gene, (name, name))
        assert found.phenotype is None and found.activity_score is None
        assert f"no phenotype map for {gene}" in found.warnings[0]


def test_phenotype_of_ties__agreeing_ties_give_the_phenotype_disagreeing_ones_none_and_name_each(
    reference: PgxReference, maps: dict[str, GenePhenotypes]
) -> None:
    entries = reference.phenotypes["CYP2C19"]["diplotypes"]
    by_phenotype: dict[str, list[str]] = {}
    for e in entries:
        by_phenotype.setdefault(e["generesult"], []).append(e["diplotype"])
    same = next(names[:2] for names in by_phenotype.values() if len(names) > 1)
    assert phenotype_of_ties(maps["CYP2C19"], "CYP2C19", same).phenotype == next(
        e["generesult"] for e in entries if e["diplotype"] == same[0]
    )
    (p1, n1), (p2, n2) = [(p, names[0]) for p, names in list(by_phenotype.items())[:2]]
    mixed = phenotype_of_ties(maps["CYP2C19"], "CYP2C19", [n1, n2])
    assert mixed.phenotype is None
    assert f"{n1} → {p1}" in mixed.warnings[-1] and f"{n2} → {p2}" in mixed.warnings[-1]


# --- lowest-function genes (DPYD; RYR1 has no map in this copy) ---------------------------------


def _dpyd_by_activity(maps: dict[str, GenePhenotypes]) -> dict[float, list[str]]:
    table = maps["DPYD"]
    out: dict[float, list[str]] = {}
    for allele in table.activity:
        if allele != "Reference":
            out.setdefault(table.activity_value(allele), []).append(allele)
    return out


def test_lowest_function_genes__are_pharmcats() -> None:
    assert LOWEST_FUNCTION_GENES == ("DPYD", "RYR1")


def test_lowest_function_unphased__dpyd_takes_the_two_lowest_activity_variants_found(
    maps: dict[str, GenePhenotypes],
) -> None:
    # GIVEN unphased DPYD variants of normal, decreased and no function, one listed twice
    by_value = _dpyd_by_activity(maps)
    normal, decreased, none = by_value[1.0][0], by_value[0.5][0], by_value[0.0][0]
    found = [normal, decreased, none, decreased]
    # WHEN the lowest-function diplotype is made THEN it is the no-function and a decreased-function one
    call = lowest_function_unphased(maps["DPYD"], found, gene="DPYD", reference="Reference")
    assert set(call.alleles) == {none, decreased} and call.diplotype == "/".join(call.alleles)
    want = maps["DPYD"].lookup((none, decreased))
    assert (call.result.phenotype, call.result.activity_score) == (want.phenotype, want.activity_score)
    assert any("4 variants found unphased" in w for w in call.result.warnings)


def test_lowest_function_unphased__one_variant_pairs_with_the_reference(maps: dict[str, GenePhenotypes]) -> None:
    decreased = _dpyd_by_activity(maps)[0.5][0]
    call = lowest_function_unphased(maps["DPYD"], [decreased], gene="DPYD", reference="Reference")
    assert set(call.alleles) == {"Reference", decreased}
    assert call.result.phenotype == maps["DPYD"].lookup(("Reference", decreased)).phenotype


def test_lowest_function_unphased__equal_activity_is_broken_by_name_as_pharmcat_does(
    maps: dict[str, GenePhenotypes],
) -> None:
    none = _dpyd_by_activity(maps)[0.0]
    assert len(none) >= 3
    call = lowest_function_unphased(maps["DPYD"], list(reversed(none[:3])), gene="DPYD", reference="Reference")
    assert call.alleles == tuple(sorted(none[:3], key=sequence_name_key)[:2])
    assert call.result.phenotype == maps["DPYD"].lookup(call.alleles).phenotype


def test_lowest_function_unphased__an_allele_without_activity_value_ranks_lowest_with_a_warning(
    maps: dict[str, GenePhenotypes],
) -> None:
    normal = _dpyd_by_activity(maps)[1.0]
    call = lowest_function_unphased(
        maps["DPYD"], [normal[0], normal[1], "c.9999A>T"], gene="DPYD", reference="Reference"
    )
    assert "c.9999A>T" in call.alleles
    assert call.result.phenotype == INDETERMINATE  # PharmCAT's term for an untranslatable activity-score diplotype
    assert any("no CPIC activity value for c.9999A>T" in w for w in call.result.warnings)


def test_lowest_function_phased__takes_the_lowest_variant_on_each_strand(maps: dict[str, GenePhenotypes]) -> None:
    by_value = _dpyd_by_activity(maps)
    normal, decreased, none = by_value[1.0][0], by_value[0.5][0], by_value[0.0][0]
    call = lowest_function_phased(
        maps["DPYD"], [f"[{normal} + {none}]", [decreased]], gene="DPYD", reference="Reference"
    )
    assert set(call.alleles) == {none, decreased}
    assert call.result.phenotype == maps["DPYD"].lookup((none, decreased)).phenotype
    reference_strand = lowest_function_phased(maps["DPYD"], [[normal], []], gene="DPYD", reference="Reference")
    assert set(reference_strand.alleles) == {normal, "Reference"}


def test_lowest_function__ryr1_without_a_map_gives_a_diplotype_only_when_two_variants_or_fewer(
    reference: PgxReference,
) -> None:
    names = [a["name"] for a in reference.definitions["RYR1"]["namedAlleles"] if not a["reference"]]
    two = lowest_function_unphased(None, names[:1], gene="RYR1", reference="Reference")
    assert two.diplotype is not None and set(two.alleles) == {"Reference", names[0]}
    assert two.result.phenotype is None and "no phenotype map for RYR1" in two.result.warnings[0]
    three = lowest_function_unphased(None, names[:3], gene="RYR1", reference="Reference")
    assert three.diplotype is None and three.result.phenotype is None
    assert any("cannot be chosen" in w for w in three.result.warnings)


def test_lowest_function__ryr1_ranks_malignant_hyperthermia_variants_first(reference: PgxReference) -> None:
    # GIVEN a small RYR1 map (RYR1.json is not in this copy) built on the definition's allele names,
    # with PharmCAT's function terms: one malignant-hyperthermia variant, two of uncertain function
    names = [a["name"] for a in reference.definitions["RYR1"]["namedAlleles"] if not a["reference"]][:3]
    functions = {
        "Reference": "Normal function",
        names[0]: "Uncertain function",
        names[1]: "Uncertain function",
        names[2]: "Malignant Hyperthermia associated",
    }
    doc = {
        "gene": "RYR1",
        "haplotypes": functions,
        "activityValues": {},
        "diplotypes": [
            {"diplotypekey": {names[0]: 1, names[2]: 1}, "generesult": "Malignant Hyperthermia Susceptibility"}
        ],
    }
    # WHEN three variants are found unphased THEN the malignant one is kept, with the first by name of the others
    call = lowest_function_unphased(parse_phenotypes(doc), names, gene="RYR1", reference="Reference")
    assert set(call.alleles) == {names[2], min(names[:2], key=sequence_name_key)}
    assert call.result.phenotype == "Malignant Hyperthermia Susceptibility"
