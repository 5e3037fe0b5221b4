"""Real single-sample gVCFs (Platinum Genomes, CEPH 1463) and BCF input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.conftest import PLATINUM, require_testdata
from tests.pipeline.helpers import national_counts

GVCFS = sorted(PLATINUM.glob("*.genome.vcf.gz"))


def _expected_an(bcftools: str, positions: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """AN from the gVCFs' own records, read by bcftools: each file counts the called alleles of its
    record at the position, else of the reference block over it, else nothing."""
    an = dict.fromkeys(positions, 0)
    for gvcf in GVCFS:
        out = subprocess.run(
            [bcftools, "query", "-f", "%CHROM\t%POS\t%END\t[%GT]\n", str(gvcf)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        calls: dict[tuple[str, int], int] = {}
        blocks: list[tuple[str, int, int, int]] = []
        for line in out.splitlines():
            chrom, pos, end, gt = line.split("\t")
            called = sum(1 for a in gt.replace("|", "/").split("/") if a != ".")
            calls.setdefault((chrom, int(pos)), called)
            blocks.append((chrom, int(pos), int(end) if end != "." else int(pos), called))
        for chrom, pos in positions:
            if (chrom, pos) in calls:
                an[(chrom, pos)] += calls[(chrom, pos)]
            else:
                an[(chrom, pos)] += max((c for ch, s, e, c in blocks if ch == chrom and s <= pos <= e), default=0)
    return an


def test_gvcfs__seventeen_family_members_an_counts_only_called_positions(tmp_path: Path, bcftools: str) -> None:
    require_testdata()
    settings = Settings(data_dir=tmp_path / "node")
    result = ingest(settings, IngestRequest(files=GVCFS, dataset="ceph1463", centre="utah"))
    assert result.assembly == "GRCh37"  # hg19's chrM (16,571 bp) in the header
    assert all(f.report["is_gvcf"] for f in result.files)
    ours = national_counts(settings)
    assert ours
    expected = _expected_an(bcftools, {(k[0], k[1]) for k in ours})
    wrong = {k: (v[1], expected[(k[0], k[1])]) for k, v in ours.items() if v[1] != expected[(k[0], k[1])]}
    assert not wrong, list(wrong.items())[:5]
    assert max(v[1] for v in ours.values()) <= 2 * len(GVCFS)


def test_bcf__the_same_calls_as_bcf_give_the_same_counts(tmp_path: Path, bcftools: str) -> None:
    require_testdata()
    vcf = PLATINUM / "1K.end.platinum-genomes-vcf-NA12878_S1.vcf.gz"
    bcf = tmp_path / "NA12878.bcf"
    subprocess.run([bcftools, "view", "--no-version", "-Ob", "-o", str(bcf), str(vcf)], check=True)
    from_vcf = Settings(data_dir=tmp_path / "a")
    from_bcf = Settings(data_dir=tmp_path / "b")
    ingest(from_vcf, IngestRequest(files=[vcf], dataset="d", centre="c"))
    result = ingest(from_bcf, IngestRequest(files=[bcf], dataset="d", centre="c"))
    assert national_counts(from_bcf) == national_counts(from_vcf)
    assert result.files[0].report["records"] == 114


@pytest.mark.parametrize("name", ["NA12877", "NA12878"])
def test_gvcf_and_variant_vcf__of_one_person_agree_on_their_alt_alleles(tmp_path: Path, name: str) -> None:
    require_testdata()
    gvcf = Settings(data_dir=tmp_path / "g")
    plain = Settings(data_dir=tmp_path / "v")
    ingest(
        gvcf,
        IngestRequest(
            files=[PLATINUM / f"1K.end.platinum-genomes-vcf-{name}_S1.genome.vcf.gz"], dataset="d", centre="c"
        ),
    )
    ingest(
        plain,
        IngestRequest(files=[PLATINUM / f"1K.end.platinum-genomes-vcf-{name}_S1.vcf.gz"], dataset="d", centre="c"),
    )
    carried_g = {k for k, v in national_counts(gvcf).items() if v[0] > 0}
    carried_v = {k for k, v in national_counts(plain).items() if v[0] > 0}
    assert carried_v and carried_v <= carried_g
