"""The fast family read (a lean pass, then the builder for the proband's records near exons) gives
the same alleles, calls and counts as building every record."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from genomenode.cases import family_vcf, knowledge
from genomenode.cases.analysis import CaseRequest, analyse
from genomenode.cases.family_vcf import NEAR_EXON_CLASSES, FamilyVariants, read_family_vcf
from genomenode.domain.assembly import Assembly
from genomenode.errors import VcfFormatError
from genomenode.ingest.pedigree import read_ped
from genomenode.simulate.family import EXAMPLE, MEMBERS, coding_base, write_family

MATRICES = ("genotypes", "alleles", "gq", "dp", "ad", "cohort_ac", "cohort_an")


def _near_exon_carried(v: FamilyVariants, proband: str = "child") -> np.ndarray:
    """The analysis' own rule: the proband carries the allele and it lies within 8 bp of an exon."""
    table = v.variants
    pos = table["pos"].to_numpy()
    ref_len = np.array([len(r) for r in table["ref"].to_pylist()], np.int64)
    found = knowledge.region_index(v.assembly).classify(table["chrom"].to_pylist(), pos, pos + ref_len - 1)
    near = np.isin(found.region_class, [int(c) for c in NEAR_EXON_CLASSES])
    return np.flatnonzero((v.genotypes[:, v.members.index(proband)] >= 1) & near)


def _assert_same_selected(fast: FamilyVariants, slow: FamilyVariants) -> None:
    """Every allele the fast read holds is the slow read's, row for row; none the analysis wants is missing."""
    key = [tuple(r.values()) for r in slow.variants.select(["chrom", "pos", "ref", "alt"]).to_pylist()]
    where = {k: i for i, k in enumerate(key)}
    rows = [where[tuple(r.values())] for r in fast.variants.select(["chrom", "pos", "ref", "alt"]).to_pylist()]
    assert fast.variants.to_pylist() == slow.variants.take(rows).to_pylist()
    for name in MATRICES:
        assert np.array_equal(getattr(fast, name), getattr(slow, name)[rows]), name
    assert [rows[i] for i in _near_exon_carried(fast)] == _near_exon_carried(slow).tolist()
    assert fast.members == slow.members and fast.info_descriptions == slow.info_descriptions
    assert fast.selection is not None and slow.selection is None
    assert fast.selection.alleles == slow.n
    assert fast.selection.proband_carries == int((slow.genotypes[:, 0] >= 1).sum())


def _both(vcf: Path, ped: Path, **options: int) -> tuple[FamilyVariants, FamilyVariants]:
    (pedigree,) = read_ped(ped).values()
    fast = read_family_vcf(vcf, pedigree, **options)  # type: ignore[arg-type]
    slow = read_family_vcf(vcf, pedigree, near_exons_only=False)
    return fast, slow


def _bgzip_and_index(plain: Path) -> Path:
    bgzip, tabix = shutil.which("bgzip"), shutil.which("tabix")
    if bgzip is None or tabix is None:
        pytest.skip("needs bgzip and tabix (htslib tools)")
    subprocess.run([bgzip, "-f", str(plain)], check=True)
    out = plain.with_name(plain.name + ".gz")
    subprocess.run([tabix, "-p", "vcf", str(out)], check=True)
    return out


def _multiallelic_family(directory: Path) -> tuple[Path, Path]:
    """A plain-text cohort VCF (the trio and two others) with indels, multi-allelic records, a
    spanning deletion and no-calls in exons, and records away from genes (no allele written twice:
    the full build keeps the first of two, the lean pass' totals count both)."""
    lines = gzip.decompress(write_family(directory, EXAMPLE, background=30)[0].read_bytes()).decode().splitlines()
    header = [h for h in lines if h.startswith("##")]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join([*MEMBERS, "s4", "s5"]))
    header.insert(2, '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">')
    header.insert(2, '##INFO=<ID=AD_R,Number=R,Type=Integer,Description="Per allele">')
    chrom, pos = coding_base("SCN1A")
    chrom2, pos2 = coding_base("CFTR")
    rows = [
        (chrom, pos - 3, "CTT", "C,CT", "AC=1,2;AD_R=1,2,3", ["1/2", "0/2", "0/1", "2/2", "0/0"]),
        (chrom, pos + 6, "C", "T,G", "AC=3,1", ["0/1", "0/0", "./.", "1/2", "0/1"]),
        (chrom, pos + 7, "A", "ATTG", "AC=1", ["0|1", "0|0", "0|1", "0/0", "./."]),
        (chrom, pos + 8, "GA", "G,*", "AC=1,1", ["0/1", "0/2", "0/0", "0/1", "0/0"]),
        (chrom, pos + 40, "TCC", "TC", ".", ["0/0", "0/1", "0/0", "1/1", "0/1"]),  # the child carries nothing
        (chrom2, pos2 + 3, "C", "A,T,G", "AC=1,1,1", ["1/3", "0/1", "0/3", "0/2", "0/0"]),
        ("chr5", 50_000_000, "A", "C,T", "AC=1,1", ["1/2", "0/1", "0/2", "0/0", "0/0"]),  # a gene desert
    ]
    records = []
    for c, p, ref, alt, info, gts in rows:
        calls = "\t".join(f"{g}:{30 + i}:{20 + i}:{','.join(['7'] * (alt.count(',') + 2))}" for i, g in enumerate(gts))
        records.append((c, p, f"{c}\t{p}\t.\t{ref}\t{alt}\t60\tPASS\t{info}\tGT:GQ:DP:AD\t{calls}"))
    for line in lines:
        if not line.startswith("#"):
            f = line.split("\t")
            records.append((f[0], int(f[1]), "\t".join([*f, "0/1:50:30:15,15", "0/0:50:30:30,0"])))
    order = {c: i for i, c in enumerate(h.split("ID=")[1].split(",")[0] for h in header if "contig" in h)}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    vcf = directory / "cohort.vcf"
    vcf.write_text("\n".join([*header, *(r[2] for r in records)]) + "\n")
    return vcf, directory / "family.ped"


def test_read_family_vcf__example_trio_fast_read_holds_the_slow_reads_alleles(tmp_path: Path) -> None:
    vcf, ped = write_family(tmp_path, EXAMPLE)
    fast, slow = _both(vcf, ped)
    _assert_same_selected(fast, slow)
    assert fast.selection is not None and fast.selection.records == 156  # 6 planted + 150 background
    assert fast.n == 6  # the planted alleles; none of the background in a gene desert


def test_read_family_vcf__multiallelic_indels_and_cohort_counts_agree_unindexed(tmp_path: Path) -> None:
    # GIVEN a plain (unindexed, uncompressed) cohort VCF with multi-allelic records and indels near exons
    vcf, ped = _multiallelic_family(tmp_path)
    # WHEN it is read fast and in full
    fast, slow = _both(vcf, ped)
    # THEN the fast read's alleles (split, trimmed, per-allele INFO, cohort counts) are the full read's
    _assert_same_selected(fast, slow)
    assert int(fast.cohort_an.max()) == 4 and fast.n < slow.n


def test_read_family_vcf__indexed_file_split_over_two_processes_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vcf, ped = _multiallelic_family(tmp_path)
    indexed = _bgzip_and_index(vcf)
    monkeypatch.setattr(family_vcf, "PARALLEL_MIN_BYTES", 0)
    fast, slow = _both(indexed, ped, workers=2)
    _assert_same_selected(fast, slow)
    one, _ = _both(indexed, ped, workers=1)
    assert fast.variants.equals(one.variants)
    assert np.array_equal(np.sort(fast.selection.record_alleles, axis=0), np.sort(one.selection.record_alleles, axis=0))  # type: ignore[union-attr]


def test_read_family_vcf__plain_gzip_reads_and_a_cut_one_fails_as_before(tmp_path: Path) -> None:
    vcf, ped = _multiallelic_family(tmp_path)
    plain_gzip = tmp_path / "cohort.gz.vcf.gz"
    plain_gzip.write_bytes(gzip.compress(vcf.read_bytes()))  # gzip, not BGZF: no index possible
    fast, slow = _both(plain_gzip, ped)
    _assert_same_selected(fast, slow)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(plain_gzip.read_bytes()[:-100])
    (pedigree,) = read_ped(ped).values()
    with pytest.raises(VcfFormatError, match="truncated or corrupt gzip") as slow_error:
        read_family_vcf(cut, pedigree, near_exons_only=False)
    with pytest.raises(VcfFormatError, match="truncated or corrupt gzip") as fast_error:
        read_family_vcf(cut, pedigree)
    assert str(fast_error.value) == str(slow_error.value)


def test_analyse__fast_read_ranks_and_counts_as_the_full_read(tmp_path: Path) -> None:
    vcf, ped = _multiallelic_family(tmp_path)
    fast, slow = _both(vcf, ped)
    (pedigree,) = read_ped(ped).values()
    request = CaseRequest(pedigree=pedigree, proband="child")
    a, b = analyse(fast, request), analyse(slow, request)
    assert [c.as_dict() for c in a.candidates] == [c.as_dict() for c in b.candidates]
    assert {k: v for k, v in a.counts.items() if k != "records"} == b.counts
    assert a.counts["records"] == 6 + 30 + 7 and fast.assembly is Assembly.GRCh38
