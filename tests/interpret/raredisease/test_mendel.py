"""Mendelian errors per trio: hand-made calls for each rule, simulated transmission, and Platinum
Genomes CEPH 1463 (three generations, 13 trios) against `bcftools +mendelian`."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.domain.assembly import Assembly
from genomenode.domain.pedigree import Affection, Member, Pedigree, Sex, Trio
from genomenode.errors import CaseError
from genomenode.ingest.pedigree import read_ped
from genomenode.ingest.vcf import iter_records, read_header
from genomenode.interpret.raredisease.inheritance import ChromClass, chromosome_classes
from genomenode.interpret.raredisease.mendel import mendelian_errors
from tests.conftest import PLATINUM

AUTO, X, PAR, Y, MT, OTHER = (int(c) for c in ChromClass)
_ = -1  # a missing allele
A = -2  # an absent allele (haploid call)
SAMPLES = ("dad", "mum", "kid")


def _trio(kid_sex: Sex = Sex.MALE) -> Pedigree:
    return Pedigree(
        "F",
        (
            Member("dad", sex=Sex.MALE),
            Member("mum", sex=Sex.FEMALE),
            Member("kid", "dad", "mum", kid_sex, Affection.AFFECTED),
        ),
    )


def _errors(rows: list[list[tuple[int, int]]], cls: int, kid_sex: Sex = Sex.MALE) -> list[str]:
    """'ok', 'error' or 'untested' for each row of (dad, mum, kid) calls."""
    alleles = np.array(rows, dtype=np.int16)
    check = mendelian_errors(
        _trio(kid_sex), alleles, samples=SAMPLES, chrom_class=np.full(len(rows), cls, dtype=np.uint8)
    )
    return [
        "error" if e else "ok" if t else "untested" for e, t in zip(check.errors[:, 0], check.tested[:, 0], strict=True)
    ]


def test_autosome__the_plink_error_codes_and_what_is_consistent() -> None:
    rows = [
        [(1, 1), (1, 1), (0, 1)],  # 1: HomVar HomVar Het
        [(0, 0), (0, 0), (0, 1)],  # 2: HomRef HomRef Het (de novo)
        [(0, 0), (0, 1), (1, 1)],  # 3: HomRef !HomRef HomVar
        [(0, 1), (0, 0), (1, 1)],  # 4
        [(0, 0), (0, 0), (1, 1)],  # 5
        [(1, 1), (0, 1), (0, 0)],  # 6: HomVar !HomVar HomRef
        [(0, 1), (1, 1), (0, 0)],  # 7
        [(1, 1), (1, 1), (0, 0)],  # 8
        [(0, 1), (0, 1), (1, 1)],  # consistent
        [(0, 1), (0, 0), (0, 1)],
        [(1, 1), (0, 0), (0, 1)],
    ]
    assert _errors(rows, AUTO) == ["error"] * 8 + ["ok"] * 3
    assert _errors(rows, PAR) == _errors(rows, AUTO)  # men are diploid in the PARs


def test_autosome__missing_parent_alleles_are_wildcards_and_an_uncalled_child_is_untested() -> None:
    rows = [
        [(_, _), (0, 0), (1, 1)],  # the mother cannot give a 1 whatever the father is
        [(_, _), (0, 0), (0, 1)],  # the father may have given the 1
        [(0, _), (1, 1), (1, 1)],  # a half-missing father may have a 1
        [(0, 0), (0, 0), (0, _)],  # child half-missing: untested
        [(0, 0), (0, 0), (1, A)],  # a haploid child on an autosome: untested (as bcftools)
        [(0, A), (0, 0), (1, 1)],  # a haploid parent's absent allele is a wildcard too
    ]
    assert _errors(rows, AUTO) == ["error", "ok", "ok", "untested", "untested", "error"]


def test_chrx__a_son_has_his_mothers_x_a_daughter_one_from_each() -> None:
    rows = [
        [(1, A), (0, 0), (1, A)],  # son's ALT not from his mother (code 10), whatever the father has
        [(0, A), (1, 1), (0, A)],  # son's REF from a hom-ALT mother (code 9)
        [(1, A), (0, 1), (1, A)],
        [(0, A), (0, 1), (1, 1)],  # a son called diploid: still only his mother's alleles
        [(0, A), (0, 0), (0, 1)],  # a son's het call: the 1 is not his mother's
    ]
    assert _errors(rows, X, Sex.MALE) == ["error", "error", "ok", "ok", "error"]
    daughters = [[(1, A), (0, 0), (0, 1)], [(0, A), (0, 0), (0, 1)], [(0, A), (1, 1), (1, 1)]]
    assert _errors(daughters, X, Sex.FEMALE) == ["ok", "error", "error"]
    # unknown sex: a haploid call is a son's; a diploid call errs only if it fits neither rule
    unknown = [[(0, A), (0, 0), (1, A)], [(1, A), (0, 0), (0, 1)], [(0, A), (0, 0), (0, 1)], [(0, A), (0, 1), (1, 1)]]
    assert _errors(unknown, X, Sex.UNKNOWN) == ["error", "ok", "error", "ok"]


def test_chry_and_chrm__a_sons_y_is_his_fathers_everyones_m_their_mothers() -> None:
    y = [[(1, A), (_, _), (1, A)], [(0, A), (_, _), (1, A)]]
    assert _errors(y, Y, Sex.MALE) == ["ok", "error"]
    assert _errors(y, Y, Sex.FEMALE) == ["untested", "untested"]
    mt = [
        [(0, 0), (1, 1), (1, 1)],
        [(1, 1), (0, 0), (1, 1)],  # the father's mitochondria are not passed on
        [(0, 0), (1, 1), (0, 1)],  # a heteroplasmic child of a homoplasmic mother
        [(0, 0), (0, 1), (1, 1)],  # a heteroplasmic mother can pass either
        [(0, 0), (1, A), (1, A)],
    ]
    assert _errors(mt, MT) == ["ok", "error", "error", "ok", "ok"]
    assert _errors([[(0, 0), (0, 0), (1, 1)]], OTHER) == ["untested"]


def test_multiallelic__judged_on_alleles_not_one_alts_count() -> None:
    # child 1/2 from mother 1/2 and father 0/0: per-ALT counts (1 each) would look consistent
    rows = [[(0, 0), (1, 2), (1, 2)], [(0, 2), (1, 1), (1, 2)], [(64, 64), (0, 0), (0, 64)]]
    assert _errors(rows, AUTO) == ["error", "ok", "untested"]  # allele 64: untested, as bcftools


def test_trios__duos_are_checked_unless_complete_trios_only_and_counts_add_up() -> None:
    ped = _trio()
    alleles = np.array([[(0, 0), (1, 1)], [(1, 1), (0, 1)], [(0, 0), (_, _)]], dtype=np.int16)
    cls = np.full(3, AUTO, dtype=np.uint8)
    check = mendelian_errors(ped, alleles, samples=("mum", "kid"), chrom_class=cls)
    assert check.trios == (Trio("kid", None, "mum"),)
    [count] = check.counts()
    assert (count.consistent, count.errors, count.untested) == (1, 1, 1)
    assert check.per_variant().tolist() == [1, 0, 0]
    assert mendelian_errors(ped, alleles, samples=("mum", "kid"), chrom_class=cls, complete_trios_only=True).trios == ()
    with pytest.raises(CaseError, match="2 allele columns but 3"):
        mendelian_errors(ped, alleles, samples=SAMPLES, chrom_class=cls)


# --- simulated transmission and a brute-force oracle ---------------------------------------------


@dataclass(frozen=True)
class Calls:
    alleles: npt.NDArray[np.int16]
    cls: npt.NDArray[np.uint8]
    kid_sex: Sex


def _haploid(cls: int, sex: Sex) -> bool:
    return cls in (Y, MT) or (cls == X and sex is Sex.MALE)


@st.composite
def transmitted(draw: st.DrawFn) -> Calls:
    """A trio whose child inherits by the rules (and calls as callers write them, haploid or not)."""
    kid_sex = draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    n = draw(st.integers(1, 20))
    rows, classes = [], []
    for _i in range(n):
        cls = draw(st.sampled_from([AUTO, PAR, X, MT] + ([Y] if kid_sex is Sex.MALE else [])))
        allele = st.integers(0, 3)
        mum = (draw(allele), draw(allele))
        dad = (draw(allele), A) if cls in (X, Y) else (draw(allele), draw(allele))
        if cls == MT:
            kid = (draw(st.sampled_from(mum)), A)
        elif cls == Y:
            kid = (dad[0], A)
        elif cls == X and kid_sex is Sex.MALE:
            kid = (draw(st.sampled_from(mum)), A)
        else:
            kid = (draw(st.sampled_from([a for a in dad if a != A])), draw(st.sampled_from(mum)))
        rows.append([dad, mum, kid])
        classes.append(cls)
    return Calls(np.array(rows, dtype=np.int16), np.array(classes, dtype=np.uint8), kid_sex)


@given(transmitted())
def test_mendelian_transmission__never_an_error(calls: Calls) -> None:
    check = mendelian_errors(_trio(calls.kid_sex), calls.alleles, samples=SAMPLES, chrom_class=calls.cls)
    assert not check.errors.any()
    assert check.tested.all()


def _oracle(dad: tuple[int, int], mum: tuple[int, int], kid: tuple[int, int], cls: int, sex: Sex) -> str:
    """Every allele the parents could pass (a missing or absent allele: any of the child's)."""
    called = [a for a in kid if a >= 0]
    if any(a == -1 for a in kid) or not called or cls == OTHER or (cls == Y and sex is not Sex.MALE):
        return "untested"

    def passes(parent: tuple[int, int], diploid: bool) -> set[int]:
        """A missing allele may be any; so may an absent one where the parent should have two."""
        unknown = any(a == -1 for a in parent) or (diploid and any(a == -2 for a in parent))
        return {a for a in parent if a >= 0} | (set(called) if unknown else set())

    dad_passes = passes(dad, cls in (AUTO, PAR))
    mum_passes = passes(mum, cls in (AUTO, PAR, X))

    if cls in (AUTO, PAR) or (cls == X and sex is Sex.FEMALE):
        if len(called) != 2:
            return "untested"
        k1, k2 = called
        ok = (k1 in mum_passes and k2 in dad_passes) or (k2 in mum_passes and k1 in dad_passes)
    elif cls == Y:
        ok = set(called) <= dad_passes
    else:  # chrX in a son, chrM
        ok = set(called) <= mum_passes
    return "ok" if ok else "error"


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            *[st.tuples(st.integers(-1, 2), st.sampled_from([-2, -1, 0, 1, 2])) for _i in range(3)],
            st.sampled_from([AUTO, PAR, X, Y, MT, OTHER]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([Sex.MALE, Sex.FEMALE]),
)
def test_random_calls__match_the_oracle(rows: list[tuple[tuple[int, int], ...]], kid_sex: Sex) -> None:
    for dad, mum, kid, cls in rows:
        assert _errors([[dad, mum, kid]], int(cls), kid_sex) == [_oracle(dad, mum, kid, int(cls), kid_sex)]  # type: ignore[arg-type]


# --- Platinum Genomes CEPH 1463 against bcftools +mendelian --------------------------------------


def _bcftools(*args: str) -> str:
    return subprocess.run(["bcftools", *args], check=True, capture_output=True, text=True).stdout


def _has_mendelian_plugin() -> bool:
    if shutil.which("bcftools") is None:
        return False
    probe = subprocess.run(["bcftools", "+mendelian", "-h"], capture_output=True, text=True)
    return "Mendelian" in probe.stdout + probe.stderr


needs_bcftools = pytest.mark.skipif(not _has_mendelian_plugin(), reason="bcftools with +mendelian not installed")


@dataclass(frozen=True)
class Merged:
    path: Path
    samples: tuple[str, ...]
    chrom: npt.NDArray[np.str_]
    alleles: npt.NDArray[np.int16]
    cls: npt.NDArray[np.uint8]


def _read(path: Path) -> Merged:
    """Genotypes through genomenode's own reader, as allele indices (-1 missing, -2 absent)."""
    header = read_header(path)
    records = list(iter_records(path, header, info_fields=frozenset()))
    width = max(r.gt.shape[1] for r in records)
    alleles = np.full((len(records), header.n_samples, width), -2, dtype=np.int16)
    for i, r in enumerate(records):
        alleles[i, :, : r.gt.shape[1]] = r.gt
    chrom = np.array([r.chrom for r in records])
    cls = chromosome_classes(Assembly.GRCh37, chrom, np.array([r.pos for r in records]))
    return Merged(path, header.samples, chrom, alleles, cls)


def _indexed_copy(src: Path, out_dir: Path) -> Path:
    dst = out_dir / src.name.replace("1K.end.platinum-genomes-vcf-", "")
    _bcftools("view", "-Oz", "-o", str(dst), str(src))
    _bcftools("index", "-f", str(dst))
    return dst


@pytest.fixture(scope="module")
def ceph_gvcf_merge(tmp_path_factory: pytest.TempPathFactory) -> Merged:
    """The 17 gVCFs merged with their reference blocks (bcftools merge --gvcf).

    `--gvcf` needs the reference base wherever a block is split; the Platinum slice (chr1:10,001-31,000
    and chrM) comes without a FASTA, so one is made from the REF alleles of the gVCFs themselves,
    which cover every position where any file starts a record (N elsewhere, where nothing is asked).
    """
    out = tmp_path_factory.mktemp("ceph_gvcf")
    files, bases = [], {}
    for src in sorted(PLATINUM.glob("*.genome.vcf.gz")):
        for r in iter_records(src, read_header(src), info_fields=frozenset()):
            contig = bases.setdefault(r.chrom, {})
            for i, base in enumerate(r.ref):
                contig[r.pos + i] = base
        files.append(str(_indexed_copy(src, out)))
    fasta = out / "reference.fa"
    fasta.write_text(
        "".join(f">{c}\n{''.join(s.get(i, 'N') for i in range(1, max(s) + 1))}\n" for c, s in bases.items())
    )
    merged = out / "ceph1463.vcf.gz"
    _bcftools("merge", "--gvcf", str(fasta), "-Oz", "-o", str(merged), *files)
    return _read(merged)


def _bcftools_counts(vcf: Path) -> dict[tuple[str, str, str], tuple[int, int, int]]:
    """(mother, father, child) → (nOK, nBad, nSkipped) from `bcftools +mendelian -m c`."""
    out = {}
    for line in _bcftools("+mendelian", str(vcf), "-p", str(PLATINUM / "ceph1463.ped"), "-m", "c").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        ok, bad, skipped, trio = line.split("\t")
        mother, father, child = trio.split(",")
        out[(mother, father, child)] = (int(ok), int(bad), int(skipped))
    return out


def _ours(
    merged: Merged, rows: npt.NDArray[np.bool_]
) -> tuple[dict[tuple[str, str, str], tuple[int, int, int]], npt.NDArray[np.int64]]:
    pedigree = read_ped(PLATINUM / "ceph1463.ped")["CEPH1463"]
    check = mendelian_errors(
        pedigree, merged.alleles[rows], samples=merged.samples, chrom_class=merged.cls[rows], complete_trios_only=True
    )
    counts = {(c.mother or "", c.father or "", c.child): (c.consistent, c.errors, c.untested) for c in check.counts()}
    return counts, check.per_variant()


@needs_bcftools
def test_ceph1463__mendelian_errors_per_trio_equal_bcftools_on_chr1(ceph_gvcf_merge: Merged, tmp_path: Path) -> None:
    # GIVEN the 17-member, 3-generation family merged with bcftools, and bcftools' own count on chr1
    merged = ceph_gvcf_merge
    chr1 = tmp_path / "chr1.vcf.gz"
    _bcftools("view", "-t", "chr1", "-Oz", "-o", str(chr1), str(merged.path))
    theirs = _bcftools_counts(chr1)
    annotated = _bcftools("+mendelian", str(chr1), "-p", str(PLATINUM / "ceph1463.ped"), "-m", "a", "-Ov")
    merr = [
        int(field.split("=")[1])
        for line in annotated.splitlines()
        if not line.startswith("#")
        for field in line.split("\t")[7].split(";")
        if field.startswith("MERR=")
    ]
    # WHEN genomenode reads the same file and checks every complete trio
    ours, per_variant = _ours(merged, merged.chrom == "chr1")
    # THEN the 13 trios over three generations count the same consistent, error and skipped sites
    assert len(theirs) == 13 and ours == theirs
    assert sum(bad for _ok, bad, _skip in ours.values()) > 250  # errors there are, in every trio
    assert per_variant.tolist() == merr  # and at the same records


@needs_bcftools
def test_ceph1463__chrm_is_checked_against_the_mother_only(ceph_gvcf_merge: Merged) -> None:
    """bcftools 1.16 counts every diploid chrM call as an error under its haploid chrM rule (the
    Platinum calls are diploid: `1/1`, heteroplasmic `0/1`), so chrM is checked against the oracle."""
    merged = ceph_gvcf_merge
    rows = merged.chrom == "chrM"
    pedigree = read_ped(PLATINUM / "ceph1463.ped")["CEPH1463"]
    check = mendelian_errors(
        pedigree, merged.alleles[rows], samples=merged.samples, chrom_class=merged.cls[rows], complete_trios_only=True
    )
    column = {s: i for i, s in enumerate(merged.samples)}
    sub = merged.alleles[rows]
    for t, trio in enumerate(check.trios):
        expected = [
            _oracle(
                tuple(r[column[trio.father or ""]]),
                tuple(r[column[trio.mother or ""]]),
                tuple(r[column[trio.child]]),
                MT,
                Sex.MALE,
            )  # type: ignore[arg-type]
            for r in sub
        ]
        got = [
            "error" if e else "ok" if tt else "untested"
            for e, tt in zip(check.errors[:, t], check.tested[:, t], strict=True)
        ]
        assert got == expected
    assert 0 < check.errors.sum() < 0.05 * check.tested.sum()


@needs_bcftools
@pytest.mark.parametrize("missing_to_ref", [False, True], ids=["absent-unknown", "absent-ref"])
def test_ceph1463__variant_only_vcfs_merged_equal_bcftools(tmp_path: Path, missing_to_ref: bool) -> None:
    """The four variant-only VCFs (NA12877 × NA12878 and two children): a site absent from a file is
    unknown, or (--missing-to-ref) hom-ref; both readings agree with bcftools."""
    files = [str(_indexed_copy(src, tmp_path)) for src in sorted(PLATINUM.glob("*_S1.vcf.gz"))]
    assert len(files) == 4
    merged = tmp_path / "four.vcf.gz"
    _bcftools("merge", *(["--missing-to-ref"] if missing_to_ref else []), "-Oz", "-o", str(merged), *files)
    chr1 = tmp_path / "four.chr1.vcf.gz"
    _bcftools("view", "-t", "chr1", "-Oz", "-o", str(chr1), str(merged))
    data = _read(chr1)
    ours, _ = _ours(data, np.ones(data.chrom.size, dtype=np.bool_))
    assert ours == _bcftools_counts(chr1) and len(ours) == 2


def test_ceph1463__pedigree_has_thirteen_trios_over_three_generations() -> None:
    pedigree = read_ped(PLATINUM / "ceph1463.ped")["CEPH1463"]
    trios = pedigree.trios()
    grandchildren = [t for t in trios if t.father == "NA12877"]
    assert len(trios) == 13 and len(grandchildren) == 11
    assert {t.child for t in trios} - {t.child for t in grandchildren} == {"NA12877", "NA12878"}
    assert all(isinstance(p, str) for p in itertools.chain.from_iterable((t.father, t.mother) for t in trios))
