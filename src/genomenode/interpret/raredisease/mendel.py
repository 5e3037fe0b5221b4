"""Mendelian errors: a child's call that its parents' calls cannot explain, per trio and variant.

Input: allele indices per variant × sample × ploidy, as `ingest.vcf` reads them (index ≥ 0, -1
missing, -2 absent: a haploid call padded), so multi-allelic records are judged on their alleles
rather than on one ALT's count. A child is checked against each genotyped parent; a parent without
genotypes, or a parent's missing allele, can pass on any of the child's alleles (as `bcftools
+mendelian` treats them); so can an absent allele where the parent should be diploid (a haploid
call on an autosome, or a mother's chrX), but not a father's chrX or chrY or a mother's chrM,
where one allele is the whole call. A child call with a missing allele is not tested.

Rules by `ChromClass` and the child's sex:

* autosomes and PARs (and a daughter's chrX): a diploid child needs one allele from each parent;
  a haploid child call is not tested.
* chrX outside the PARs, a son: his allele(s) must all be among his mother's.
  Unknown sex: a haploid call is taken as a son's; a diploid call is an error only when it fails
  both the daughter's and the son's rule.
* chrY outside the PARs, a son: his allele(s) must be among his father's (a daughter or a child of
  unknown sex is not tested).
* chrM: the child's allele(s) must all be among the mother's (a heteroplasmic `0/1` child of a
  homoplasmic mother is an error).
* other contigs, and records with allele indices above 63: not tested.

`bcftools +mendelian` (1.16) agrees on autosomes; it does not know sexes (on chrX it accepts either
rule) and, with its GRCh37 rules, counts every diploid chrM call as an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from genomenode.domain.pedigree import Pedigree, Sex, Trio
from genomenode.errors import CaseError, listing
from genomenode.interpret.raredisease.inheritance import ChromClass

Bool = npt.NDArray[np.bool_]

_MAX_ALLELE = 63


@dataclass(frozen=True)
class TrioCount:
    child: str
    father: str | None
    mother: str | None
    consistent: int
    errors: int
    untested: int


@dataclass(frozen=True)
class MendelianCheck:
    """Per variant × trio: tested (the child is called and a rule applies) and error."""

    trios: tuple[Trio, ...]
    tested: Bool
    errors: Bool

    def counts(self) -> tuple[TrioCount, ...]:
        n = self.tested.shape[0]
        tested = self.tested.sum(axis=0)
        errors = self.errors.sum(axis=0)
        return tuple(
            TrioCount(t.child, t.father, t.mother, int(tested[i] - errors[i]), int(errors[i]), int(n - tested[i]))
            for i, t in enumerate(self.trios)
        )

    def per_variant(self) -> npt.NDArray[np.int64]:
        """How many trios each variant is an error in (bcftools' INFO/MERR)."""
        out: npt.NDArray[np.int64] = self.errors.sum(axis=1, dtype=np.int64)
        return out


def mendelian_errors(
    pedigree: Pedigree,
    alleles: npt.NDArray[np.integer[Any]],
    *,
    samples: Sequence[str],
    chrom_class: npt.NDArray[np.uint8],
    complete_trios_only: bool = False,
) -> MendelianCheck:
    """Check every genotyped child of the pedigree with at least one genotyped parent (both, with
    `complete_trios_only`). Columns not in the pedigree are ignored."""
    a = np.asarray(alleles)
    if a.ndim != 3 or a.dtype.kind not in "iu":
        raise CaseError(f"alleles of shape {a.shape}; expected integer allele indices variants × samples × ploidy")
    if a.shape[1] != len(samples):
        raise CaseError(f"{a.shape[1]} allele columns but {len(samples)} sample names")
    if len(set(samples)) != len(samples):
        raise CaseError(f"sample names repeated: {listing(sorted({s for s in samples if samples.count(s) > 1}))}")
    cls = np.asarray(chrom_class, dtype=np.uint8)
    if cls.shape != (a.shape[0],):
        raise CaseError(f"chrom_class needs one value per variant ({a.shape[0]})")
    column = {s: i for i, s in enumerate(samples) if s in pedigree}
    trios = pedigree.trios(genotyped=column, complete=complete_trios_only)
    n = a.shape[0]
    tested = np.zeros((n, len(trios)), dtype=np.bool_)
    errors = np.zeros((n, len(trios)), dtype=np.bool_)
    if not n or not trios:
        return MendelianCheck(trios, tested, errors)
    # Allele sets as bits in the narrowest unsigned type that holds the largest allele index.
    top = min(int(a.max()), _MAX_ALLELE)
    bit_type = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits > top)
    lut = np.zeros(top + 3, dtype=bit_type)  # by allele + 2: absent, missing, 0, 1, ...
    lut[2:] = np.left_shift(1, np.arange(top + 1)).astype(bit_type)
    planes = [a[:, :, k] for k in range(a.shape[2])]  # element-wise per ploidy slot, no axis reductions
    too_many = np.zeros(n, dtype=np.bool_)
    if int(a.max()) > _MAX_ALLELE:  # bcftools skips records with more than 64 alleles too
        for plane in planes:
            too_many |= (plane > _MAX_ALLELE).any(axis=1)
    sets: dict[str, tuple[npt.NDArray[Any], Bool, Bool]] = {}

    def allele_set(sample: str) -> tuple[npt.NDArray[Any], Bool, Bool]:
        """Bit set of a sample's called alleles, where its call has a missing allele, and where one is absent."""
        if sample not in sets:
            j = column[sample]
            bits = np.zeros(n, dtype=bit_type)
            missing = np.zeros(n, dtype=np.bool_)
            absent = np.zeros(n, dtype=np.bool_)
            for plane in planes:
                c = np.ascontiguousarray(plane[:, j])
                bits |= np.take(lut, np.minimum(c, _MAX_ALLELE) + 2)
                missing |= c == -1
                absent |= c == -2
            sets[sample] = (bits, missing, absent)
        return sets[sample]

    nothing = np.zeros(n, dtype=np.bool_)
    auto = (cls == ChromClass.AUTOSOME) | (cls == ChromClass.PAR)
    on_x, on_y, on_mt = cls == ChromClass.X, cls == ChromClass.Y, cls == ChromClass.MT
    for t, trio in enumerate(trios):
        j = column[trio.child]
        c1 = planes[0][:, j]
        c2 = planes[1][:, j] if len(planes) > 1 else np.full(n, -2, dtype=a.dtype)
        extra_called = nothing.copy()
        for plane in planes[2:]:
            extra_called |= plane[:, j] >= 0
        diploid = (c1 >= 0) & (c2 >= 0) & ~extra_called
        haploid = (c1 >= 0) & (c2 == -2) & ~extra_called
        kid_bits, _, _ = allele_set(trio.child)
        zero = bit_type(0)
        if trio.father is not None:
            f_bits, f_missing, f_absent = allele_set(trio.father)
        else:
            f_bits, f_missing, f_absent = np.zeros(n, dtype=bit_type), ~nothing, nothing
        if trio.mother is not None:
            m_bits, m_missing, m_absent = allele_set(trio.mother)
        else:
            m_bits, m_missing, m_absent = np.zeros(n, dtype=bit_type), ~nothing, nothing
        # A missing allele may be any of the child's; so may an absent one where the parent should be
        # diploid (a haploid call on an autosome), but not a father's X or Y or a mother's M.
        f_set = f_bits | np.where(f_missing | (f_absent & auto), kid_bits, zero)
        m_set = m_bits | np.where(m_missing | (m_absent & (auto | on_x)), kid_bits, zero)
        b1 = lut[np.minimum(c1, _MAX_ALLELE) + 2]
        b2 = lut[np.minimum(c2, _MAX_ALLELE) + 2]
        one_each = (((m_set & b1) != 0) & ((f_set & b2) != 0)) | (((m_set & b2) != 0) & ((f_set & b1) != 0))
        from_mother = (kid_bits & ~m_set) == 0
        from_father = (kid_bits & ~f_set) == 0
        sex = pedigree.member(trio.child).sex

        auto_tested = auto & diploid
        if sex is Sex.MALE:
            x_tested, x_ok = on_x & (diploid | haploid), from_mother
            y_tested = on_y & (diploid | haploid)
        elif sex is Sex.FEMALE:
            x_tested, x_ok = on_x & diploid, one_each
            y_tested = nothing
        else:
            x_tested = on_x & (diploid | haploid)
            x_ok = np.where(haploid, from_mother, one_each | from_mother)
            y_tested = nothing
        mt_tested = on_mt & (diploid | haploid)
        tested[:, t] = (auto_tested | x_tested | y_tested | mt_tested) & ~too_many
        bad = (auto_tested & ~one_each) | (x_tested & ~x_ok) | (y_tested & ~from_father) | (mt_tested & ~from_mother)
        errors[:, t] = bad & tested[:, t]
    return MendelianCheck(trios, tested, errors)
