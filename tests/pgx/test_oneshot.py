"""`pgx --vcf`: hand-checked PharmCAT cases end to end, from VCFs built on PharmCAT's position list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genomenode.errors import PgxError
from genomenode.ingest.outside_calls import read_outside_calls
from genomenode.pgx.oneshot import pgx_for_vcf
from tests.pgx.vcfs import pgx_vcf, positions_vcf

pytestmark = pytest.mark.skipif(not positions_vcf().exists(), reason="PharmCAT reference data not beside the checkout")


STAR2_HOM = {"rs4244285": "1/1", "rs12769205": "1/1", "rs3758581": "1/1"}


def _report(tmp_path: Path, genotypes: dict[str, str], **kw: Any) -> dict[str, Any]:
    return pgx_for_vcf(pgx_vcf(tmp_path / "s.vcf", genotypes, **kw))


def _drugs(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["drug"]: r for r in report["recommendations"]}


def test_pgx__all_reference_sample_is_cyp2c19_star38_and_complete(tmp_path: Path) -> None:
    report = _report(tmp_path, {})
    cyp2c19 = report["genes"]["CYP2C19"]
    assert cyp2c19["diplotypes"] == ["*38/*38"] and cyp2c19["phenotype"] == "Normal Metabolizer"
    assert report["complete"] and cyp2c19["missing_positions"] == []
    assert report["genes"]["CYP2C9"]["activity_score"] == "2.0"


def test_pgx__cyp2c19_star2_homozygous_is_a_poor_metabolizer_and_clopidogrel_is_avoided(tmp_path: Path) -> None:
    # *2: c.681G>A (rs4244285) with rs12769205 G on the *1 background (rs3758581 G), as defined
    report = _report(tmp_path, STAR2_HOM)
    gene = report["genes"]["CYP2C19"]
    assert (gene["diplotypes"], gene["phenotype"]) == (["*2/*2"], "Poor Metabolizer")
    clopidogrel = _drugs(report)["clopidogrel"]
    assert clopidogrel["genes"] == {"CYP2C19": "Poor Metabolizer"}
    assert "prasugrel or ticagrelor" in clopidogrel["recommendation"] and clopidogrel["cpic_level"] == "A"


def test_pgx__cyp2c19_star1_star17_is_a_rapid_metabolizer(tmp_path: Path) -> None:
    report = _report(tmp_path, {"rs12248560": "0/1", "rs3758581": "1/1"})
    gene = report["genes"]["CYP2C19"]
    assert (gene["diplotypes"], gene["phenotype"]) == (["*1/*17"], "Rapid Metabolizer")


@pytest.mark.parametrize(
    ("genotypes", "diplotype", "phenotype"),
    [
        ({"rs3064744": "0/2"}, "*1/*28", "Intermediate Metabolizer"),  # TA(8) = CATAT, the 2nd ALT
        ({"rs3064744": "2/2"}, "*28/*28", "Poor Metabolizer"),
        ({"rs3064744": "1/2"}, "*28/*36", "Intermediate Metabolizer"),  # TA(6)/TA(8)
    ],
)
def test_pgx__ugt1a1_ta_repeat_from_a_multiallelic_record(
    tmp_path: Path, genotypes: dict[str, str], diplotype: str, phenotype: str
) -> None:
    gene = _report(tmp_path, genotypes)["genes"]["UGT1A1"]
    assert (gene["diplotypes"], gene["phenotype"]) == ([diplotype], phenotype)


def test_pgx__ugt1a1_star28_written_as_split_records_reads_the_same(tmp_path: Path) -> None:
    # GIVEN the TA repeat as `bcftools norm -m-` writes it: one record per ALT, a 1/2 as 0/1 + 0/1
    path = pgx_vcf(tmp_path / "split.vcf", {})
    lines = []
    for line in path.read_text().splitlines():
        if "\trs3064744\t" in line:
            f = line.split("\t")
            for alt, gt in (("C", "0/1"), ("CATAT", "0/1"), ("CATATAT", "0/0")):
                lines.append("\t".join([*f[:4], alt, *f[5:9], gt]))
        else:
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    gene = pgx_for_vcf(path)["genes"]["UGT1A1"]
    assert gene["diplotypes"] == ["*28/*36"]


def test_pgx__tpmt_unphased_double_het_is_star1_star3a_and_says_star3b_star3c_is_not_ruled_out(
    tmp_path: Path,
) -> None:
    # rs1800460 (*3B) and rs1142345 (*3C: its first ALT, C) both heterozygous, unphased: PharmCAT's
    # score (positions each allele defines) puts *1/*3A first, and its curated message names *3B/*3C
    report = _report(tmp_path, {"rs1800460": "0/1", "rs1142345": "0/1"})
    gene = report["genes"]["TPMT"]
    assert gene["diplotypes"] == ["*1/*3A"] and gene["phenotype"] == "Intermediate Metabolizer"
    assert any("*3B/*3C cannot be ruled out without phased data" in w for w in gene["warnings"])


def test_pgx__tpmt_phased_double_het_in_trans_is_star3b_star3c(tmp_path: Path) -> None:
    report = _report(tmp_path, {"rs1800460": "0|1", "rs1142345": "1|0"})
    gene = report["genes"]["TPMT"]
    assert gene["diplotypes"] == ["*3B/*3C"] and gene["phenotype"] == "Poor Metabolizer"
    assert not any("ruled out" in w for w in gene["warnings"])  # phased data settles it


def test_pgx__dpyd_hapb3_heterozygous_is_an_intermediate_metabolizer(tmp_path: Path) -> None:
    report = _report(tmp_path, {"rs56038477": "0/1", "rs75017182": "0/1"})
    gene = report["genes"]["DPYD"]
    assert len(gene["diplotypes"]) == 1 and gene["diplotypes"][0].startswith("Reference/")
    assert "HapB3" in gene["diplotypes"][0]
    assert (gene["phenotype"], gene["activity_score"]) == ("Intermediate Metabolizer", "1.5")
    assert "Reduce starting dose by 50%" in _drugs(report)["fluorouracil"]["recommendation"]


def test_pgx__slco1b1_falls_back_to_rs4149056_when_no_star_allele_call_is_possible(tmp_path: Path) -> None:
    # GIVEN only c.521T>C (rs4149056) heterozygous, every other SLCO1B1 position missing
    from genomenode.pgx.knowledge import knowledge

    others = {p.rsid for p in knowledge().definitions["SLCO1B1"].positions if p.rsid and p.rsid != "rs4149056"}
    report = _report(tmp_path, {"rs4149056": "0/1"}, drop=frozenset(others))
    gene = report["genes"]["SLCO1B1"]
    assert gene["phenotype"] == "Decreased Function"
    assert any("rs4149056" in w for w in gene["warnings"])
    assert _drugs(report)["simvastatin"]["genes"] == {"SLCO1B1": "Decreased Function"}


def test_pgx__missing_positions_are_listed_and_make_the_report_incomplete(tmp_path: Path) -> None:
    star1_star2 = {"rs4244285": "0/1", "rs12769205": "0/1", "rs3758581": "1/1"}
    report = _report(tmp_path, star1_star2, drop=frozenset({"rs4986893", "rs12248560"}))
    gene = report["genes"]["CYP2C19"]
    assert {"rs4986893", "rs12248560"} <= set(gene["missing_positions"])
    assert not report["complete"] and any("incomplete" in w for w in report["warnings"])
    # missing is never read as reference: *2 is still found from what is there
    assert "*2" in gene["diplotypes"][0]


def test_pgx__a_vcf_without_pgx_positions_never_gives_a_silent_reference_call(tmp_path: Path) -> None:
    path = tmp_path / "unrelated.vcf"
    path.write_text(
        '##fileformat=VCFv4.2\n##contig=<ID=chr1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tpatient\nchr1\t100\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n"
    )
    report = pgx_for_vcf(path)
    assert not report["complete"]
    for gene, entry in report["genes"].items():
        assert entry["diplotypes"] == [], gene
        assert entry["warnings"], gene
    assert report["recommendations"] == []


def test_pgx__cyp2d6_comes_from_an_outside_call_and_says_so(tmp_path: Path) -> None:
    outside = tmp_path / "outside.tsv"
    outside.write_text("CYP2D6\t*1/*4\tIntermediate Metabolizer\t1.0\n")
    report = pgx_for_vcf(pgx_vcf(tmp_path / "s.vcf"), outside_calls=read_outside_calls(outside))
    gene = report["genes"]["CYP2D6"]
    assert (gene["diplotypes"], gene["phenotype"], gene["source"]) == (
        ["*1/*4"],
        "Intermediate Metabolizer",
        "outside call",
    )
    assert _drugs(report)["codeine"]["genes"]["CYP2D6"] == "Intermediate Metabolizer"
    without = _report(tmp_path, {})["genes"]["CYP2D6"]
    assert without["diplotypes"] == [] and "outside-call" in without["warnings"][0]


def test_pgx__several_samples_need_a_choice_and_grch37_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PgxError, match="choose one with --sample"):
        pgx_for_vcf(pgx_vcf(tmp_path / "two.vcf", samples=("a", "b")))
    two = pgx_for_vcf(pgx_vcf(tmp_path / "two.vcf", {"rs4244285": "0/1"}, samples=("a", "b")), sample="b")
    assert two["sample"] == "b"
    path = pgx_vcf(tmp_path / "b37.vcf", contig_lines=False)
    text = path.read_text().replace(
        "##fileformat=VCFv4.2\n", "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=249250621>\n"
    )
    path.write_text(text)
    with pytest.raises(PgxError, match="GRCh37"):
        pgx_for_vcf(path)
