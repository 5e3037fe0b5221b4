"""The Named Allele Matcher on samples built from the definition files (PharmCAT's method)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from genomenode.interpret.pgx.calls import PositionCall
from genomenode.interpret.pgx.definitions import GeneDefinition, sequence_name_key
from genomenode.interpret.pgx.matcher import GeneMatch, match_gene
from tests.interpret.pgx.builders import calls_from, diplotype_calls, sequence
from tests.interpret.pgx.conftest import load_documents
from tests.interpret.pgx.oracle import top_diplotypes

GENES = sorted(load_documents()[0])
ORACLE_MAX_HET = 8  # the oracle enumerates 2^(het-1) orientations


def _name(a: str, b: str) -> str:
    return "/".join(sorted([a, b], key=sequence_name_key))


def _priority_pick(definition: GeneDefinition, name: str) -> str | None:
    for priority in definition.unphased_priorities:
        if name in priority.diplotypes:
            return priority.pick
    return None


@pytest.mark.parametrize("phased", [False, True], ids=["unphased", "phased"])
@pytest.mark.parametrize("gene", GENES)
def test_every_named_allele__homozygous_and_with_reference__is_called(
    definitions: dict[str, GeneDefinition], gene: str, phased: bool
) -> None:
    definition = definitions[gene]
    reference = definition.reference_allele.name
    for n, allele in enumerate(definition.named_alleles):
        if not definition.defined[n].any():
            # defined only at positions the exemptions ignore (G6PD Chatham, RYR1 c.14509C>G)
            continue
        for a, b in ((allele.name, allele.name), (reference, allele.name)):
            calls = diplotype_calls(definition, a, b, phased=phased)
            result = match_gene(definition, calls)
            expected = _name(a, b)
            assert result.uncallable_reason is None, (expected, result.uncallable_reason)
            assert result.missing_positions == ()
            if definition.lowest_function and not result.effectively_phased:
                # unphased DPYD/RYR1 with more than one heterozygous call: a list, not a diplotype
                assert allele.name in result.haplotypes
                assert result.diplotypes == ()
                continue
            names = [d.name for d in result.diplotypes]
            pick = None if phased else _priority_pick(definition, expected)
            if pick is not None and not result.effectively_phased:
                assert names == [pick], expected
                continue
            assert expected in names, (expected, names)
            het = sum(c.alleles[0] != c.alleles[-1] for c in calls.values())
            if not phased and not definition.lowest_function and het <= ORACLE_MAX_HET:
                assert set(names) == top_diplotypes(definition, calls), expected


def test_cyp2c19__all_reference_sample_is_star38_star38(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["CYP2C19"]
    result = match_gene(d, diplotype_calls(d, "*38", "*38"))
    assert [x.name for x in result.diplotypes] == ["*38/*38"]
    assert result.diplotypes[0].score == 2 * len(d.positions)


@pytest.mark.parametrize("pair", [("*2", "*2"), ("*1", "*17"), ("*2", "*38"), ("*17", "*2")])
def test_cyp2c19__hand_checked_diplotypes(definitions: dict[str, GeneDefinition], pair: tuple[str, str]) -> None:
    d = definitions["CYP2C19"]
    result = match_gene(d, diplotype_calls(d, *pair))
    assert [x.name for x in result.diplotypes] == [_name(*pair)]
    assert result.diplotypes[0].alleles == tuple(sorted(pair, key=sequence_name_key))


def test_tpmt__star3a_het_unphased__called_star1_star3a_with_star3b_star3c_as_lower_alternative(
    definitions: dict[str, GeneDefinition],
) -> None:
    # GIVEN *3B on one chromosome and *3C on the other, unphased: the same genotypes as *1/*3A
    d = definitions["TPMT"]
    result = match_gene(d, diplotype_calls(d, "*3B", "*3C"))
    # THEN PharmCAT's score ranks *1/*3A (reference allele counts every position) above *3B/*3C
    assert [x.name for x in result.diplotypes] == ["*1/*3A"]
    assert [x.name for x in result.alternatives] == ["*3B/*3C"]
    assert result.diplotypes[0].score > result.alternatives[0].score
    # AND phased data tells them apart, in trans and in cis
    assert [x.name for x in match_gene(d, diplotype_calls(d, "*3B", "*3C", phased=True)).diplotypes] == ["*3B/*3C"]
    assert [x.name for x in match_gene(d, diplotype_calls(d, "*1", "*3A", phased=True)).diplotypes] == ["*1/*3A"]


def _positions_of(d: GeneDefinition, name: str) -> list[int]:
    return [int(i) for i in d.defined[d.names.index(name)].nonzero()[0]]


def test_phase_sets__calls_in_different_sets_are_not_phased_to_each_other(
    definitions: dict[str, GeneDefinition],
) -> None:
    d = definitions["TPMT"]
    p3b, p3c = _positions_of(d, "*3B")[0], _positions_of(d, "*3C")[0]
    s1, s2 = sequence(d, "*3B"), sequence(d, "*3C")
    different = calls_from(d, s1, s2, phased=True, phase_sets={p3b: 100, p3c: 200})
    result = match_gene(d, different)
    assert [x.name for x in result.diplotypes] == ["*1/*3A"]
    assert not result.effectively_phased
    same = calls_from(d, s1, s2, phased=True, phase_sets={p3b: 100, p3c: 100})
    result = match_gene(d, same)
    assert [x.name for x in result.diplotypes] == ["*3B/*3C"]
    assert result.phased and result.effectively_phased


def test_ugt1a1__star28_ta_repeat_in_definition_notation(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["UGT1A1"]
    repeat = next(i for i, p in enumerate(d.positions) if p.rsid == "rs3064744")
    s1 = sequence(d, "*1")
    s2 = list(s1)
    s2[repeat] = "CATAT"  # TA(8)
    assert [x.name for x in match_gene(d, calls_from(d, s1, s2)).diplotypes] == ["*1/*28"]
    assert [x.name for x in match_gene(d, calls_from(d, s2, s2)).diplotypes] == ["*28/*28"]


def test_missing_positions__listed_and_dropped_never_assumed_reference(definitions: dict[str, GeneDefinition]) -> None:
    # GIVEN TPMT *1/*3A with the *3B position (shared by *3A) not called
    d = definitions["TPMT"]
    p3b = _positions_of(d, "*3B")[0]
    calls = calls_from(d, sequence(d, "*1"), sequence(d, "*3A"), drop={p3b})
    result = match_gene(d, calls)
    assert result.missing_positions == (d.positions[p3b].label,)
    # THEN *3A and *3C can no longer be told apart (NamedAlleleMatcher-101 "Missing rs1"), both
    # reported as ties, and *3B (defined only there) is never called
    assert [x.name for x in result.diplotypes] == ["*1/*3A", "*1/*3C"]
    assert result.diplotypes[0].score == result.diplotypes[1].score == len(d.positions) - 1 + 1
    assert any("score equally" in w for w in result.warnings)


def test_no_position_called__gene_uncallable_with_reason(definitions: dict[str, GeneDefinition]) -> None:
    result = match_gene(definitions["CYP2C19"], {})
    assert result.diplotypes == () and not result.called
    assert result.uncallable_reason and "no genotype" in result.uncallable_reason
    assert len(result.missing_positions) == len(definitions["CYP2C19"].positions)


def test_nat2__missing_required_position__no_call(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["NAT2"]
    required = next(i for i, p in enumerate(d.positions) if p.position in d.required_positions)
    calls = calls_from(d, sequence(d, "*1"), sequence(d, "*4"), drop={required})
    result = match_gene(d, calls)
    assert result.diplotypes == ()
    assert result.uncallable_reason and "required" in result.uncallable_reason
    assert d.positions[required].label in result.uncallable_reason


def test_nat2__unphased_tie_from_pick_list__called_as_pharmcat_pick(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["NAT2"]
    priority = next(p for p in d.unphased_priorities if len(p.diplotypes) == 3)
    a, b = sorted(priority.diplotypes)[0].split("/")
    result = match_gene(d, diplotype_calls(d, a, b))
    assert [x.name for x in result.diplotypes] == [priority.pick]
    assert any("picks" in w for w in result.warnings)


def test_partial_call__reference_only_is_missing_alt_only_is_no_call(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["TPMT"]
    p3c = _positions_of(d, "*3C")[0]
    pos = d.positions[p3c]
    calls = dict(diplotype_calls(d, "*1", "*1"))
    calls[pos.key] = PositionCall(pos.chrom, pos.position, (pos.ref, "."), False)
    result = match_gene(d, calls)
    assert result.missing_positions == (pos.label,)
    assert [x.name for x in result.diplotypes] == ["*1/*1"]
    calls[pos.key] = PositionCall(pos.chrom, pos.position, (pos.alts[0], "."), False)
    result = match_gene(d, calls)
    assert result.diplotypes == () and result.uncallable_reason and "partial" in result.uncallable_reason


def test_g6pd__haploid_male_call__one_allele(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["G6PD"]
    single = next(a.name for n, a in enumerate(d.named_alleles) if d.defined[n].sum() == 1 and not a.reference)
    result = match_gene(d, calls_from(d, sequence(d, single)))
    assert [x.alleles for x in result.diplotypes] == [(single,)]
    assert [x.name for x in result.diplotypes] == [single]
    reference = match_gene(d, calls_from(d, sequence(d, d.reference_allele.name)))
    assert [x.name for x in reference.diplotypes] == [d.reference_allele.name]


def _undocumented(d: GeneDefinition, name: str) -> dict[tuple[str, int], PositionCall]:
    p = _positions_of(d, name)[0]
    pos = d.positions[p]
    other = next(b for b in "ACGT" if b != pos.ref and b not in pos.alts)
    calls = dict(diplotype_calls(d, d.reference_allele.name, d.reference_allele.name))
    calls[pos.key] = PositionCall(pos.chrom, pos.position, (pos.ref, other), False)
    return calls


def test_undocumented_variation__uncalled_for_most_genes(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["CYP2C19"]
    result = match_gene(d, _undocumented(d, "*17"))
    assert result.diplotypes == ()
    assert result.uncallable_reason and "undocumented" in result.uncallable_reason
    assert result.undocumented_positions


def test_undocumented_variation__reference_for_pharmcat_toxicity_genes(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["TPMT"]
    result = match_gene(d, _undocumented(d, "*3C"))
    assert [x.name for x in result.diplotypes] == ["*1/*1"]
    assert any("read as the reference" in w for w in result.warnings)


def test_dpyd__unphased_variants_listed__phased_named_per_strand(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["DPYD"]
    singles = [a.name for n, a in enumerate(d.named_alleles) if d.defined[n].sum() == 1 and not a.reference][:2]
    s1 = sequence(d, "Reference")
    s2 = list(s1)
    for name in singles:
        p = _positions_of(d, name)[0]
        s2[p] = sequence(d, name)[p]
    unphased = match_gene(d, calls_from(d, s1, s2))
    assert unphased.lowest_function and unphased.diplotypes == ()
    assert sorted(unphased.haplotypes, key=sequence_name_key) == sorted(singles, key=sequence_name_key)
    phased = match_gene(d, calls_from(d, s1, s2, phased=True))
    combined = "[" + " + ".join(sorted(singles, key=sequence_name_key)) + "]"
    assert [x.name for x in phased.diplotypes] == [f"Reference/{combined}"]
    assert phased.diplotypes[0].strands == (("Reference",), tuple(sorted(singles, key=sequence_name_key)))
    homozygous = match_gene(d, calls_from(d, s2, s2))
    assert [x.name for x in homozygous.diplotypes] == [f"{combined}/{combined}"]


def test_cyp2c9__extra_position_reported_not_matched(definitions: dict[str, GeneDefinition]) -> None:
    d = definitions["CYP2C9"]
    extra = d.extra_positions[0]
    calls = dict(diplotype_calls(d, "*1", "*2"))
    calls[extra.key] = PositionCall(extra.chrom, extra.position, (extra.ref, extra.alts[0]), False)
    result = match_gene(d, calls)
    assert [x.name for x in result.diplotypes] == ["*1/*2"]
    assert result.extra_positions == ((extra.label, (extra.ref, extra.alts[0])),)


def test_gene_match__is_frozen(definitions: dict[str, GeneDefinition]) -> None:
    result: GeneMatch = match_gene(definitions["VKORC1"], {})
    with pytest.raises(AttributeError):
        result.gene = "x"  # type: ignore[misc]
    assert replace(result, gene="x").gene == "x"
