"""The rules behind AN, on tiny hand-made files where the answer can be worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.pipeline.helpers import bcftools_counts, national_counts

CHR1 = contig_lengths(Assembly.GRCh38)["chr1"]
CHRX = contig_lengths(Assembly.GRCh38)["chrX"]
HEADER = [
    "##fileformat=VCFv4.2",
    f"##contig=<ID=chr1,length={CHR1}>",
    f"##contig=<ID=chrX,length={CHRX}>",
    '##FILTER=<ID=LowQual,Description="low quality">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End of the reference block">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##ALT=<ID=NON_REF,Description="Any other allele">',
]


def vcf(path: Path, samples: list[str], records: list[str]) -> Path:
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)
    path.write_text("\n".join([*HEADER, cols, *records]) + "\n")
    return path


def counts(settings: Settings) -> dict[tuple[int, str, str], tuple[int, int, int, int]]:
    return {(k[1], k[2], k[3]): v for k, v in national_counts(settings).items()}


def test_an__absent_site_in_a_variant_only_file_counts_as_hom_ref(settings: Settings, tmp_path: Path) -> None:
    a = vcf(tmp_path / "a.vcf", ["A1", "A2"], ["chr1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1\t0/0"])
    b = vcf(tmp_path / "b.vcf", ["B1"], ["chr1\t200\t.\tG\tA\t50\tPASS\t.\tGT\t1/1"])
    ingest(settings, IngestRequest(files=[a], dataset="d", centre="north"))
    ingest(settings, IngestRequest(files=[b], dataset="d", centre="south"))
    # (ac, an, hom, hemi): B1 has no record at 100 → hom-ref, counts 2; A1, A2 likewise at 200
    assert counts(settings) == {(100, "C", "T"): (1, 6, 0, 0), (200, "G", "A"): (2, 6, 1, 0)}


def test_an__gvcf_counts_only_inside_reference_blocks(settings: Settings, tmp_path: Path) -> None:
    a = vcf(tmp_path / "a.vcf", ["A1", "A2"], ["chr1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1\t0/0"])
    covered = vcf(
        tmp_path / "covered.g.vcf",
        ["G1"],
        [
            "chr1\t50\t.\tA\t<NON_REF>\t.\t.\tEND=150\tGT:DP\t0/0:30",
            "chr1\t151\t.\tG\tA,<NON_REF>\t90\tPASS\t.\tGT:DP\t0/1:28",
        ],
    )
    elsewhere = vcf(tmp_path / "elsewhere.g.vcf", ["G2"], ["chr1\t200\t.\tA\t<NON_REF>\t.\t.\tEND=300\tGT\t0/0"])
    for f in (a, covered, elsewhere):
        ingest(settings, IngestRequest(files=[f], dataset="d", centre="c"))
    c = counts(settings)
    # at 100: A (2 called of 4) + G1's block (2) + nothing from G2 (no block over 100)
    assert c[(100, "C", "T")] == (1, 6, 0, 0)
    # at 151: G1's call (2), A hom-ref (4); G2 has no block there → unknown
    assert c[(151, "G", "A")] == (1, 6, 0, 0)
    assert (50, "A", "<NON_REF>") not in c and all("<" not in k[2] for k in c)


def test_an__males_are_haploid_on_x_outside_the_par(settings: Settings, tmp_path: Path) -> None:
    sheet = tmp_path / "s.tsv"
    sheet.write_text("sample_id\tsex\nM1\tmale\nF1\tfemale\n")
    a = vcf(
        tmp_path / "a.vcf",
        ["M1", "F1"],
        [
            "chrX\t5000000\t.\tA\tG\t50\tPASS\t.\tGT\t1\t0/1",
            "chrX\t6000000\t.\tC\tT\t50\tPASS\t.\tGT\t0\t1/1",
        ],
    )
    b = vcf(tmp_path / "b.vcf", ["F2"], ["chrX\t7000000\t.\tG\tC\t50\tPASS\t.\tGT\t0/1"])
    ingest(settings, IngestRequest(files=[a], dataset="d", centre="c", sample_sheet=sheet))
    ingest(settings, IngestRequest(files=[b], dataset="d", centre="c"))
    c = counts(settings)
    assert c[(5000000, "A", "G")] == (2, 5, 0, 1)  # M1 hemizygous, F1 het, F2 hom-ref (2)
    assert c[(6000000, "C", "T")] == (2, 5, 1, 0)
    assert c[(7000000, "G", "C")] == (1, 5, 0, 0)  # M1 absent → 1 allele, F1 absent → 2


def test_an__split_multiallelic_counts_other_alt_as_called(settings: Settings, tmp_path: Path, bcftools: str) -> None:
    f = vcf(
        tmp_path / "m.vcf",
        ["S1", "S2", "S3"],
        [
            "chr1\t1000\t.\tCAT\tC,CATAT,TAT\t50\tPASS\t.\tGT:AD\t1/2:3,4,5,0\t3/3:0,0,0,9\t./.:.",
            "chr1\t2000\t.\tG\tA\t50\tLowQual\t.\tGT\t0/.\t1/1\t0|1",
        ],
    )
    ingest(settings, IngestRequest(files=[f], dataset="d", centre="c"))
    reference = {(k[1], k[2], k[3]): v for k, v in bcftools_counts(bcftools, f).items()}
    assert counts(settings) == reference
    assert reference[(1000, "CAT", "C")] == (1, 4, 0, 0)  # S3 missing: not called
    assert reference[(1000, "C", "T")] == (2, 4, 1, 0)  # CAT>TAT trimmed to C>T at 1000


def test_pass_only__drops_alleles_filtered_in_any_file(settings: Settings, tmp_path: Path) -> None:
    from genomenode.domain.variant import parse_region
    from genomenode.query.service import NodeQueries

    f = vcf(
        tmp_path / "m.vcf",
        ["S1"],
        [
            "chr1\t1000\t.\tC\tT\t50\tPASS\t.\tGT\t0/1",
            "chr1\t2000\t.\tG\tA\t50\tLowQual\t.\tGT\t1/1",
        ],
    )
    ingest(settings, IngestRequest(files=[f], dataset="d", centre="c"))
    with NodeQueries(settings) as q:
        everything = q.frequencies(region=parse_region("chr1:1-3000"))
        passing = q.frequencies(region=parse_region("chr1:1-3000"), pass_only=True)
    assert [r.pos for r in everything.rows] == [1000, 2000]
    assert [r.pos for r in passing.rows] == [1000]
    assert everything.rows[1].filters == "LowQual"


@pytest.mark.parametrize(
    ("region", "positions"),
    [
        ("chr1:1000-1000", [998, 1000]),
        ("chr1:1001-1999", [998]),
        ("chr1:999-999", [998]),
        ("chr1:1003-3000", []),
    ],
)
def test_region__includes_alleles_whose_ref_overlaps_it(
    settings: Settings, tmp_path: Path, region: str, positions: list[int]
) -> None:
    from genomenode.domain.variant import parse_region
    from genomenode.query.service import NodeQueries

    f = vcf(
        tmp_path / "m.vcf",
        ["S1"],
        [
            "chr1\t998\t.\tAGGTC\tA\t50\tPASS\t.\tGT\t0/1",  # deletion spanning 998-1002
            "chr1\t1000\t.\tG\tA\t50\tPASS\t.\tGT\t1/1",
        ],
    )
    ingest(settings, IngestRequest(files=[f], dataset="d", centre="c"))
    with NodeQueries(settings) as q:
        assert [r.pos for r in q.frequencies(region=parse_region(region)).rows] == positions


def test_an__outside_a_callable_bed_absence_is_unknown(settings: Settings, tmp_path: Path) -> None:
    a = vcf(tmp_path / "a.vcf", ["A1"], ["chr1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1"])
    b = vcf(tmp_path / "b.vcf", ["B1"], ["chr1\t5000\t.\tG\tA\t50\tPASS\t.\tGT\t0/1"])
    # b's centre only called chr1:1001-10000 (BED is 0-based, half-open)
    (tmp_path / "b.vcf.callable.bed").write_text("chr1\t1000\t10000\n")
    ingest(settings, IngestRequest(files=[a], dataset="d", centre="north"))
    ingest(settings, IngestRequest(files=[b], dataset="d", centre="south"))
    c = counts(settings)
    assert c[(100, "C", "T")] == (1, 2, 0, 0)  # B1 not callable at 100: unknown, not hom-ref
    assert c[(5000, "G", "A")] == (1, 4, 0, 0)  # A1 has no BED: hom-ref on all of chr1


def test_an__a_polyploid_call_counts_every_called_allele(settings: Settings, tmp_path: Path) -> None:
    # Worked by hand: `bcftools norm -m-` assumes diploid calls when it splits, so it is no oracle here.
    f = vcf(
        tmp_path / "p.vcf",
        ["S1", "S2"],
        [
            "chr1\t3000\t.\tA\tG,T\t50\tPASS\t.\tGT\t0/1/2\t1/1",
            "chr1\t3100\t.\tC\tA\t50\tPASS\t.\tGT\t1/1/1\t0/.",
        ],
    )
    ingest(settings, IngestRequest(files=[f], dataset="d", centre="c"))
    assert counts(settings) == {
        (3000, "A", "G"): (3, 5, 1, 0),  # S1 one G of three alleles, S2 hom G
        (3000, "A", "T"): (1, 5, 0, 0),
        (3100, "C", "A"): (3, 4, 1, 0),  # S1 hom (three copies), S2 one called allele
    }
