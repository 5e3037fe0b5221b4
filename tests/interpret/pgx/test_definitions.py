"""Parsing PharmCAT's translation files and exemptions into matcher arrays."""

from __future__ import annotations

import copy

import pytest

from genomenode.errors import ConfigurationError
from genomenode.interpret.pgx.definitions import (
    GeneDefinition,
    is_wobble,
    parse_definition,
    sequence_name_key,
)


def test_every_gene__has_one_reference_allele_and_its_positions(
    documents: tuple[dict[str, dict], dict[str, dict]],  # type: ignore[type-arg]
    definitions: dict[str, GeneDefinition],
) -> None:
    translations, exemptions = documents
    for gene, doc in translations.items():
        definition = definitions[gene]
        ignored = {p["position"] for p in exemptions.get(gene, {}).get("ignoredPositions", [])}
        expected = [v["position"] for v in doc["variants"] if v["position"] not in ignored]
        assert [p.position for p in definition.positions] == expected
        assert definition.reference_allele.name == next(a["name"] for a in doc["namedAlleles"] if a["reference"])
        assert definition.allowed.shape == (len(definition.named_alleles), len(expected))


def test_cyp2c19__reference_allele_is_star38(definitions: dict[str, GeneDefinition]) -> None:
    assert definitions["CYP2C19"].reference_allele.name == "*38"


def test_exemptions__ignored_positions_and_alleles_dropped_extra_positions_kept_aside(
    documents: tuple[dict[str, dict], dict[str, dict]],  # type: ignore[type-arg]
    definitions: dict[str, GeneDefinition],
) -> None:
    _, exemptions = documents
    g6pd = definitions["G6PD"]
    for position in exemptions["G6PD"]["ignoredPositions"]:
        assert position["position"] not in {p.position for p in g6pd.positions}
    for name in exemptions["G6PD"]["ignoredAlleles"]:
        assert name not in g6pd.names
    cyp2c9 = definitions["CYP2C9"]
    extra = exemptions["CYP2C9"]["extraPositions"][0]
    assert [p.rsid for p in cyp2c9.extra_positions] == [extra["rsid"]]
    assert extra["position"] not in {p.position for p in cyp2c9.positions}
    assert definitions["NAT2"].required_positions == frozenset(exemptions["NAT2"]["requiredPositions"])
    assert len(definitions["NAT2"].unphased_priorities) == len(exemptions["NAT2"]["unphasedDiplotypePriorities"])


def test_null_cell__accepts_the_reference_alleles_base(definitions: dict[str, GeneDefinition]) -> None:
    tpmt = definitions["TPMT"]
    star2 = tpmt.names.index("*2")
    for p, cell in enumerate(tpmt.named_alleles[star2].alleles):
        if cell is None:
            assert tpmt.allowed[star2, p] == tpmt.allowed[tpmt.reference_index, p]
            assert not tpmt.defined[star2, p]


def test_iupac_code__accepts_every_base_it_stands_for(definitions: dict[str, GeneDefinition]) -> None:
    seen = 0
    for definition in definitions.values():
        for n, allele in enumerate(definition.named_alleles):
            for p, cell in enumerate(allele.alleles):
                if cell is not None and is_wobble(cell):
                    seen += 1
                    accepted = {
                        a for a, bit in definition.vocabulary[p].items() if int(definition.raw[n, p]) >> bit & 1
                    }
                    assert len(accepted) >= 2
                    assert definition.wobble[n, p]
    assert seen > 0


def test_malformed_definition__raises_configuration_error_naming_the_gene(
    documents: tuple[dict[str, dict], dict[str, dict]],  # type: ignore[type-arg]
) -> None:
    doc = copy.deepcopy(documents[0]["TPMT"])
    doc["namedAlleles"][1]["alleles"] = doc["namedAlleles"][1]["alleles"][:-1]
    with pytest.raises(ConfigurationError, match="TPMT"):
        parse_definition(doc)
    doc = copy.deepcopy(documents[0]["TPMT"])
    for allele in doc["namedAlleles"]:
        allele["reference"] = False
    with pytest.raises(ConfigurationError, match="reference"):
        parse_definition(doc)


def test_name_order__numeric_star_order_then_other_names_then_combinations() -> None:
    names = ["[*2 + *3]", "c.1627A>G (*5)", "*17", "Reference", "*2", "*10", "c.85T>C (*9A)", "*3A", "*3"]
    assert sorted(names, key=sequence_name_key) == [
        "*2",
        "*3",
        "*3A",
        "*10",
        "*17",
        "Reference",
        "c.85T>C (*9A)",
        "c.1627A>G (*5)",
        "[*2 + *3]",
    ]
