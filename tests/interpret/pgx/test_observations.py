"""Records as a VCF writes them → calls in the definition's notation, sites read from PharmCAT's files."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from genomenode.domain.observed import MISSING, ObservedGenotype
from genomenode.interpret.pgx.observations import DefinitionSite, DefinitionSites, to_calls

DEFINITIONS = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "pgx" / "allele_definitions"
pytestmark = pytest.mark.skipif(not DEFINITIONS.exists(), reason="PharmCAT reference data not present")


@cache
def sites(gene: str) -> DefinitionSites:
    doc = json.loads((DEFINITIONS / f"{gene}_translation.json").read_text())
    return DefinitionSites(
        DefinitionSite(doc["chromosome"], v["position"], v["ref"], tuple(v["alts"])) for v in doc["variants"]
    )


@cache
def site(gene: str, rsid: str) -> DefinitionSite:
    doc = json.loads((DEFINITIONS / f"{gene}_translation.json").read_text())
    v = next(v for v in doc["variants"] if v["rsid"] == rsid)
    return DefinitionSite(doc["chromosome"], v["position"], v["ref"], tuple(v["alts"]))


def obs(
    pos: int,
    ref: str,
    alts: tuple[str, ...],
    alleles: tuple[int, ...],
    *,
    chrom: str = "chr2",
    phased: bool = False,
    ps: int | None = None,
) -> ObservedGenotype:
    return ObservedGenotype("S1", chrom, pos, ref, alts, alleles, phased, ps)


TA = site("UGT1A1", "rs3064744")  # CAT → C, CATAT (*28, TA7), CATATAT (*37, TA8)


def test_multiallelic_record__one_het_call_of_two_alts() -> None:
    calls = to_calls([obs(TA.position, TA.ref, TA.alts[1:], (1, 2))], sites("UGT1A1"))
    assert calls[TA.key].alleles == (TA.alts[1], TA.alts[2])
    assert not calls[TA.key].phased


def test_split_records__reassembled_per_copy_as_bcftools_norm_writes_a_1_2() -> None:
    split = [obs(TA.position, TA.ref, (TA.alts[1],), (1, 0)), obs(TA.position, TA.ref, (TA.alts[2],), (0, 1))]
    assert to_calls(split, sites("UGT1A1"))[TA.key].alleles == (TA.alts[1], TA.alts[2])


def test_split_records__written_0_1_twice_are_counted_as_alleles_when_unphased() -> None:
    split = [obs(TA.position, TA.ref, (TA.alts[1],), (0, 1)), obs(TA.position, TA.ref, (TA.alts[2],), (0, 1))]
    assert to_calls(split, sites("UGT1A1"))[TA.key].alleles == (TA.alts[1], TA.alts[2])


def test_split_records__phased_alts_on_one_copy_is_no_call() -> None:
    split = [
        obs(TA.position, TA.ref, (TA.alts[1],), (0, 1), phased=True),
        obs(TA.position, TA.ref, (TA.alts[2],), (0, 1), phased=True),
    ]
    assert TA.key not in to_calls(split, sites("UGT1A1"))


def test_insertion_written_minimal_or_shifted_inside_the_repeat_is_the_definition_allele() -> None:
    star28 = TA.alts[1]  # CATAT: one more TA
    minimal = obs(TA.position, "C", ("CAT",), (0, 1))
    shifted = obs(TA.position + 2, "T", ("TAT",), (0, 1))
    for record in (minimal, shifted):
        assert to_calls([record], sites("UGT1A1"))[TA.key].alleles == (TA.ref, star28)
    left = obs(TA.position - 1, "G" + TA.ref, ("G" + star28,), (1, 1))  # one extra base on the left
    right = obs(TA.position, TA.ref + "A", (star28 + "A",), (1, 1))  # one extra base on the right
    for record in (left, right):
        assert to_calls([record], sites("UGT1A1"))[TA.key].alleles == (star28, star28)


def test_hom_ref_record__is_reference_in_the_definitions_ref() -> None:
    calls = to_calls([obs(TA.position, TA.ref, TA.alts, (0, 0))], sites("UGT1A1"))
    assert calls[TA.key].alleles == (TA.ref, TA.ref)
    no_alt = to_calls([obs(TA.position, TA.ref, (), (0, 0))], sites("UGT1A1"))  # ALT '.'
    assert no_alt[TA.key].alleles == (TA.ref, TA.ref)


def test_position_without_record__is_missing_not_reference() -> None:
    other = site("UGT1A1", "rs887829")
    calls = to_calls([obs(other.position, other.ref, other.alts, (0, 0))], sites("UGT1A1"))
    assert other.key in calls and TA.key not in calls


def test_partial_and_missing_calls__are_missing() -> None:
    for alleles in ((0, MISSING), (MISSING, MISSING), (1, MISSING)):
        assert TA.key not in to_calls([obs(TA.position, TA.ref, TA.alts, alleles)], sites("UGT1A1"))


def test_haploid_call_on_chrX__one_allele() -> None:
    snv = site("G6PD", "rs1050828")
    calls = to_calls([obs(snv.position, snv.ref, snv.alts, (1,), chrom="chrX")], sites("G6PD"))
    assert calls[snv.key].alleles == (snv.alts[0],)


def test_alt_no_definition_has__kept_as_its_sequence_over_the_site() -> None:
    ta9 = "CATATATAT"  # TA(9): not in the definition
    calls = to_calls([obs(TA.position, TA.ref, (ta9,), (0, 1))], sites("UGT1A1"))
    assert calls[TA.key].alleles == (TA.ref, ta9)
    snv = site("UGT1A1", "rs887829")
    other_base = next(b for b in "ACGT" if b not in (snv.ref, *snv.alts))
    calls = to_calls([obs(snv.position, snv.ref, (other_base,), (1, 1))], sites("UGT1A1"))
    assert calls[snv.key].alleles == (other_base, other_base)


def test_deletion_from_upstream_over_a_snv_site__reference_where_it_calls_0_variation_where_it_deletes() -> None:
    snv = site("UGT1A1", "rs887829")
    upstream = obs(snv.position - 1, "A" + snv.ref, ("A",), (0, 1))  # deletes the site's base on copy 2
    (call,) = to_calls([upstream], sites("UGT1A1")).values()
    assert call.alleles[0] == snv.ref
    assert call.alleles[1] not in snv.alleles


def test_spanning_deletion_star_allele__never_reference() -> None:
    snv = site("UGT1A1", "rs887829")
    calls = to_calls([obs(snv.position, snv.ref, (snv.alts[0], "*"), (0, 2))], sites("UGT1A1"))
    assert calls[snv.key].alleles == (snv.ref, "*")


def test_defined_deletion_over_an_overlapping_snv_site__counts_only_at_its_own_site() -> None:
    # G6PD: a 18-base deletion at 154532752 spans the definition SNV at 154532758
    g6pd = sites("G6PD")
    deletion = next(s for s in g6pd.by_key.values() if s.position == 154532752)
    inside = next(s for s in g6pd.by_key.values() if s.position == 154532758)
    records = [
        obs(deletion.position, deletion.ref, deletion.alts, (0, 1), chrom="chrX"),
        obs(inside.position, inside.ref, inside.alts, (0, 0), chrom="chrX"),
    ]
    calls = to_calls(records, g6pd)
    assert calls[deletion.key].alleles == (deletion.ref, deletion.alts[0])
    assert calls[inside.key].alleles == (inside.ref, inside.ref)


def test_phase__phased_only_when_gt_is_phased_with_ps_as_phase_set() -> None:
    records = [obs(TA.position, TA.ref, TA.alts, (2, 0), phased=True, ps=233700000)]
    call = to_calls(records, sites("UGT1A1"))[TA.key]
    assert call.alleles == (TA.alts[1], TA.ref) and call.phased and call.phase_set == 233700000
    unphased = to_calls([obs(TA.position, TA.ref, TA.alts, (2, 0), ps=5)], sites("UGT1A1"))[TA.key]
    assert not unphased.phased and unphased.phase_set is None


def test_ref_that_disagrees_with_the_definition__is_missing() -> None:
    wrong = next(b for b in "ACGT" if b != TA.ref[0]) + TA.ref[1:]
    assert TA.key not in to_calls([obs(TA.position, wrong, ("C",), (0, 1))], sites("UGT1A1"))


def test_contig_named_without_chr_and_sites_as_a_plain_sequence() -> None:
    plain = [DefinitionSite("chr2", TA.position, TA.ref, TA.alts)]
    calls = to_calls([obs(TA.position, TA.ref, TA.alts, (1, 1), chrom="2")], plain)
    assert calls[TA.key].alleles == (TA.alts[0], TA.alts[0]) and calls[TA.key].chrom == "chr2"


def test_every_definition_allele_of_every_gene_reads_back_as_itself() -> None:
    for path in sorted(DEFINITIONS.glob("*_translation.json")):
        gene = path.name.split("_")[0]
        index = sites(gene)
        for s in index.by_key.values():
            for alt in s.alts:
                calls = to_calls([obs(s.position, s.ref, (alt,), (0, 1), chrom=s.chrom)], index)
                assert calls[s.key].alleles == (s.ref, alt), (gene, s)
