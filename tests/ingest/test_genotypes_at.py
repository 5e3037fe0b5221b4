"""`genotypes_at`: the records over given positions, as written, from indexed and plain files alike.

Small VCFs are built from PharmCAT's position list the way its TestVcfBuilder does: the template's
records (REF/ALT as PharmCAT normalises them) with the genotypes a test needs.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from genomenode.domain.observed import MISSING
from genomenode.errors import UnsortedVcfError, VcfFormatError
from genomenode.ingest.vcf import genotypes_at, observed_at
from genomenode.ingest.vcf_writer import Site, read_sites, write_vcf
from tests.conftest import G1K_JOINT, REPO

POSITIONS = REPO.parent / "shared" / "reference" / "pgx" / "positions" / "pharmcat_positions.vcf"
pytestmark = pytest.mark.skipif(not POSITIONS.exists(), reason="PharmCAT position list not present")
HAS_TOOLS = shutil.which("bcftools") is not None and shutil.which("tabix") is not None


def _sites() -> list[Site]:
    return read_sites(POSITIONS)


def _header(samples: list[str], *, chr_prefix: bool = True) -> list[str]:
    contigs = dict.fromkeys(s.chrom for s in _sites())
    return [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c if chr_prefix else c.removeprefix('chr')}>" for c in contigs),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]


def _records(sites: list[Site], calls: dict[str, list[str]], *, n: int = 2, chr_prefix: bool = True) -> list[str]:
    """One record per site; `calls` maps an rsID to each of `n` samples' GT[:PS] (default 0/0)."""
    lines = []
    for s in sites:
        chrom = s.chrom if chr_prefix else s.chrom.removeprefix("chr")
        gts = calls.get(s.id, ["0/0"] * n)
        lines.append("\t".join([chrom, str(s.pos), s.id, s.ref, ",".join(s.alts), ".", "PASS", ".", "GT:PS", *gts]))
    return lines


def _windows(sites: list[Site]) -> list[tuple[str, int, int]]:
    return [(s.chrom, s.pos, s.pos + len(s.ref) - 1) for s in sites]


@pytest.fixture(scope="module")
def pgx_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two samples at every PharmCAT position: hom-ref except a few calls; bgzipped and tabix-indexed."""
    sites = _sites()
    calls = {"rs3064744": ["1/2", "2|0:233760000"], "rs4244285": ["0/1", "1|1:94000000"], "rs1050828": ["1", "0/."]}
    path = tmp_path_factory.mktemp("pgx") / "pgx.vcf.gz"
    write_vcf(path, _header(["S1", "S2"]), _records(sites, calls))
    if HAS_TOOLS:
        subprocess.run(["tabix", "-p", "vcf", str(path)], check=True)
    return path


def test_every_position__one_record_per_site_with_calls_as_written(pgx_vcf: Path) -> None:
    sites = _sites()
    found = genotypes_at(pgx_vcf, _windows(sites))
    assert found.n_records == len(sites) and found.samples == ("S1", "S2")
    by_id = {s.id: s for s in sites}
    ta = by_id["rs3064744"]
    s1 = {(o.chrom, o.pos): o for o in found.observed("S1")}
    s2 = {(o.chrom, o.pos): o for o in found.observed(1)}
    assert s1[(ta.chrom, ta.pos)].alts == ta.alts and s1[(ta.chrom, ta.pos)].alleles == (1, 2)
    assert not s1[(ta.chrom, ta.pos)].phased
    assert s2[(ta.chrom, ta.pos)].alleles == (2, 0) and s2[(ta.chrom, ta.pos)].phase_set == 233760000


def test_haploid_and_partial_calls_come_through(pgx_vcf: Path) -> None:
    g6pd = next(s for s in _sites() if s.id == "rs1050828")
    found = observed_at(pgx_vcf, [(g6pd.chrom, g6pd.pos, g6pd.pos)])
    (male,), (partial,) = found["S1"], found["S2"]
    assert male.alleles == (1,) and not male.phased
    assert partial.alleles == (0, MISSING) and not partial.complete


@pytest.mark.skipif(not HAS_TOOLS, reason="needs tabix/bcftools")
def test_indexed_plain_bcf_and_unprefixed_contigs__same_records(pgx_vcf: Path, tmp_path: Path) -> None:
    sites = _sites()
    plain = tmp_path / "plain.vcf"
    plain.write_bytes(gzip.decompress(pgx_vcf.read_bytes()))
    bcf = tmp_path / "pgx.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(pgx_vcf)], check=True)
    subprocess.run(["bcftools", "index", str(bcf)], check=True)
    bare = tmp_path / "bare.vcf.gz"
    write_vcf(bare, _header(["S1", "S2"], chr_prefix=False), _records(sites, {}, chr_prefix=False))
    windows = _windows(sites)
    reference = genotypes_at(pgx_vcf, windows)
    for other in (plain, bcf):
        again = genotypes_at(other, windows)
        assert (again.chrom, again.pos, again.ref, again.alts) == (
            reference.chrom,
            reference.pos,
            reference.ref,
            reference.alts,
        )
        assert np.array_equal(again.gt, reference.gt)
    bare_found = genotypes_at(bare, windows)
    assert bare_found.chrom == reference.chrom and bare_found.pos == reference.pos


def test_only_overlapping_records__a_deletion_reaching_into_a_window_counts(tmp_path: Path) -> None:
    header = _header(["S1"])
    records = [
        "chr2\t233760230\t.\tGGGCA\tG\t.\tPASS\t.\tGT\t0/1",  # reaches 233760234: overlaps the TA site
        "chr2\t233760300\t.\tA\tG\t.\tPASS\t.\tGT\t0/1",  # outside every window
    ]
    path = tmp_path / "del.vcf.gz"
    write_vcf(path, header, records)
    (obs,) = observed_at(path, [("chr2", 233760233, 233760235)])["S1"]
    assert (obs.pos, obs.ref, obs.alts, obs.alleles) == (233760230, "GGGCA", ("G",), (0, 1))


def test_chosen_samples__only_their_columns(pgx_vcf: Path) -> None:
    found = genotypes_at(pgx_vcf, _windows(_sites()[:5]), samples=["S2"])
    assert found.samples == ("S2",) and found.gt.shape[1] == 1


def test_unknown_sample__names_the_file_and_the_sample(pgx_vcf: Path) -> None:
    with pytest.raises(VcfFormatError, match=r"pgx\.vcf\.gz.*NOPE"):
        genotypes_at(pgx_vcf, _windows(_sites()[:5]), samples=["NOPE"])


def test_unsorted_plain_file__refused_with_the_position(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.vcf"
    lines = [
        *_header(["S1"]),
        "chr2\t233760498\t.\tG\tA\t.\tPASS\t.\tGT\t0/1",
        "chr2\t233759924\t.\tC\tT\t.\tPASS\t.\tGT\t0/1",
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnsortedVcfError, match="233759924"):
        genotypes_at(path, [("chr2", 233759924, 233759924)])


def test_malformed_record__vcf_format_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.vcf"
    lines = [*_header(["S1"]), "chr2\t233759924\t.\tC\tT\t.\tPASS\t.\tGT:PS\t0/1:notanumber"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VcfFormatError, match=r"broken\.vcf"):
        genotypes_at(path, [("chr2", 233759924, 233759924)])


def test_missing_file__vcf_format_error(tmp_path: Path) -> None:
    with pytest.raises(VcfFormatError, match="no such file"):
        genotypes_at(tmp_path / "absent.vcf.gz", [("chr2", 1, 2)])


@pytest.mark.skipif(not HAS_TOOLS or not G1K_JOINT.exists(), reason="needs tabix and the 1000 Genomes test file")
def test_joint_call_of_2504_samples__index_and_stream_agree_and_1200_windows_are_quick(tmp_path: Path) -> None:
    # GIVEN the 1000 Genomes chr22 slice, indexed, and 1,200 windows over its records
    joint = tmp_path / "joint.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(joint), str(G1K_JOINT)], check=True)  # as BGZF
    subprocess.run(["tabix", "-p", "vcf", str(joint)], check=True)
    positions = [s.pos for s in read_sites(joint)][::8][:1200]
    windows = [("chr22", p, p) for p in positions]
    # WHEN read through the index, and streamed from an unindexed copy
    started = time.perf_counter()
    indexed = genotypes_at(joint, windows)
    elapsed = time.perf_counter() - started
    plain = tmp_path / "unindexed.vcf.gz"
    shutil.copy(G1K_JOINT, plain)
    streamed = genotypes_at(plain, windows)
    # THEN the same records and calls, at ~1,200 records × 2,504 samples in well under a few seconds
    assert indexed.n_records >= len(set(positions)) and indexed.pos == streamed.pos
    assert np.array_equal(indexed.gt, streamed.gt) and indexed.gt.shape[1] == 2504
    assert elapsed < 5.0
