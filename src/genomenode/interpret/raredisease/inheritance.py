"""Modes of inheritance computed from a family's genotypes (never taken from an upstream tool).

Input: a genotype matrix, variants × samples, as `genotype_matrix` makes it from the allele arrays
`ingest.vcf` reads: the number of copies of the variant's ALT allele in each call (0, 1, 2), and
MISSING (-1) for a no-call. A haploid call counts 0 or 1. On a haploid stretch (a man's chrX outside
the PARs, chrY, and chrM for everyone) any count ≥ 1 means the ALT is there: a haploid `1`, a `1/1`
from a caller that calls men diploid, and a heteroplasmic `0/1` on chrM all count as carrying it.
Beside it: each variant's `ChromClass` (from the domain's contig names and PARs: `chromosome_classes`)
and gene index (-1 for none), the pedigree, and which member each column is.

Output, per variant and mode, at two levels, as bit fields of `Mode`:

* `proband`: the proband with their parents (a trio, duo or singleton around the index case);
* `family`: that, and every other genotyped affected member shares the variant in the mode's way,
  and no genotyped unaffected member shows it (members of unknown affection count for neither).

Each level says for each mode whether the data *fit* it, or leave it *untold* (a relative the mode
needs is not genotyped, a call is missing, a parent's affection or the proband's sex is unknown).
The three values are exact: *fits* means the mode holds however the missing calls, sex and
affection are filled in, *untold* that it holds for some fillings only, and neither that it holds
for none (the tests check this against a brute-force enumeration). So a missing call never
excludes a variant and never confirms one: a singleton's het variant is untold for de novo, not de
novo. `cannot_tell` says why, per mode, in words.

The rules (P proband, F father, M mother; "carries" = count ≥ 1, "hom" = every copy ALT):

* de novo: P carries, F and M are hom-ref; on chrX outside the PARs a son needs only M hom-ref,
  on chrY a son only F. Not assessed on chrM (see mitochondrial).
* autosomal recessive, homozygous (autosomes and PARs): P hom; F and M carry; an unaffected parent is not hom.
* compound heterozygous (autosomes and PARs, within one gene): two variants, P het at both. Phased
  by the parents: a variant is paternal when F carries it and M is hom-ref, maternal the other way.
  A pair fits when one is paternal and the other maternal; it is excluded when both come from one
  parent (cis); otherwise (a parent not genotyped or its call missing, a variant in neither parent)
  it is untold, i.e. unphased. A pair is also excluded when an unaffected parent or sibling of an
  affected member carries both (so a variant both parents carry pairs with nothing inherited), or an
  unaffected member is hom for either.
* X-linked recessive (chrX outside the PARs): a son hemizygous and M carrying; a daughter hom, F and
  M carrying; an unaffected father carrying it or an unaffected mother hom excludes it.
* autosomal dominant (autosomes and PARs): P het and no unaffected parent carries it; that is, it
  comes from an affected parent who carries it, or is de novo (F and M hom-ref).
* mitochondrial (chrM): P carries, and so does M (maternal transmission). Unaffected carriers do not
  exclude it (heteroplasmy), as in Jannovar's mitochondrial checker.

At the family level every other genotyped affected member must share it (de novo, AD, mitochondrial:
carries; AR and XLR: hom; compound het: het at both), with carrier parents (AR) and carrier mothers
(XLR in sons, mitochondrial); no genotyped unaffected member may show it (carry it for de novo and
AD, be hom for AR, XLR and either variant of a compound het). chrY is assessed for de novo only;
contigs other than 1-22, X, Y and M for nothing.

Everything is numpy over whole columns: no Python loop over variants (a WGS trio of 4.5 M variants
and 1,000 families of 20 k rare variants are the sizes it is measured at).
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import PAR_REGIONS, Assembly, canonical_contig
from genomenode.domain.pedigree import Affection, FamilyShape, Pedigree, Sex, Structure
from genomenode.errors import CaseError, PedigreeError, listing

Bool = npt.NDArray[np.bool_]
Level = Literal["proband", "family"]

MISSING: Final = -1  # a no-call in the genotype matrix


class ChromClass(enum.IntEnum):
    """How a variant's stretch of genome is inherited."""

    AUTOSOME = 0
    X = 1  # chrX outside the pseudo-autosomal regions
    PAR = 2  # the PARs of chrX (and of chrY): inherited like an autosome
    Y = 3  # chrY outside the PARs
    MT = 4  # chrM
    OTHER = 5  # unplaced, alternative and decoy contigs: no mode is assessed


class Mode(enum.IntFlag):
    DE_NOVO = 1
    AUTOSOMAL_RECESSIVE_HOM = 2
    COMPOUND_HET = 4
    X_LINKED_RECESSIVE = 8
    AUTOSOMAL_DOMINANT = 16
    MITOCHONDRIAL = 32


ALL_MODES: Final = tuple(Mode)


def chromosome_class(assembly: Assembly, contig: str, positions: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """The class of each 1-based position on one contig (any naming: `X`, `chrX`, `NC_000023.11`)."""
    pos = np.asarray(positions)
    canon = canonical_contig(contig)
    if canon in ("chrX", "chrY"):
        par = np.zeros(pos.shape, dtype=np.bool_)
        for lo, hi in PAR_REGIONS[assembly].get(canon, ()):
            par |= (pos >= lo) & (pos <= hi)
        inside = ChromClass.X if canon == "chrX" else ChromClass.Y
        return np.where(par, np.uint8(ChromClass.PAR), np.uint8(inside)).astype(np.uint8)
    if canon == "chrM":
        cls = ChromClass.MT
    elif canon is None:
        cls = ChromClass.OTHER
    else:
        cls = ChromClass.AUTOSOME
    return np.full(pos.shape, cls, dtype=np.uint8)


def chromosome_classes(assembly: Assembly, contigs: npt.ArrayLike, positions: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """`chromosome_class` for variants on many contigs: one call per run of equal contig names."""
    names = np.asarray(contigs)
    pos = np.asarray(positions)
    if names.shape != pos.shape or names.ndim != 1:
        raise CaseError(f"contigs {names.shape} and positions {pos.shape} must be two arrays of one length")
    out = np.empty(pos.shape, dtype=np.uint8)
    if not names.size:
        return out
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    ends = np.r_[starts[1:], names.size]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):  # runs of contigs, not variants
        out[a:b] = chromosome_class(assembly, str(names[a]), pos[a:b])
    return out


def genotype_matrix(alleles: npt.NDArray[np.integer[Any]], alt: int | npt.ArrayLike = 1) -> npt.NDArray[np.int8]:
    """Copies of ALT `alt` per variant × sample from allele indices (variants × samples × ploidy).

    Allele codes are `ingest.vcf`'s: index ≥ 0, -1 missing, -2 absent (a haploid call padded).
    A call with a missing allele, or with no allele at all, is MISSING. `alt` may differ per variant
    (a multi-allelic record split into one row per ALT).
    """
    a = np.asarray(alleles)
    if a.ndim != 3:
        raise CaseError(f"allele array of shape {a.shape}; expected variants × samples × ploidy")
    k = np.asarray(alt)
    kk = k.reshape(-1, 1) if k.ndim else k
    count = np.zeros(a.shape[:2], dtype=np.int8)
    missing = np.zeros(a.shape[:2], dtype=np.bool_)
    present = np.zeros(a.shape[:2], dtype=np.bool_)
    for slot in range(a.shape[2]):  # element-wise per ploidy slot: no reduction along a short axis
        plane = a[:, :, slot]
        count += plane == kk
        missing |= plane == -1
        present |= plane != -2
    count[missing | ~present] = MISSING
    return count


# --- three-valued logic over variants ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tri:
    """Per variant: `yes` where a statement holds for sure, `maybe` where it may hold (yes ⊆ maybe)."""

    yes: Bool
    maybe: Bool


class Need(enum.Enum):
    """What a rule asks of one person's call."""

    CARRIES = "carries"  # at least one copy
    REF = "hom-ref"
    HOM = "hom"  # every copy ALT (hemizygous on a haploid stretch)
    NOT_HOM = "not hom"
    HET = "het"  # one of two copies (never on a haploid stretch)
    NOTHING = "impossible"


# Allowed calls as bits: 1 = no copy, 2 = one copy, 4 = two copies. A haploid stretch has no het:
# one copy and two (a `1/1` from a caller that calls men diploid) both mean the ALT is there.
_DIPLOID = {Need.CARRIES: 6, Need.REF: 1, Need.HOM: 4, Need.NOT_HOM: 3, Need.HET: 2, Need.NOTHING: 0}
_HAPLOID = {Need.CARRIES: 6, Need.REF: 1, Need.HOM: 6, Need.NOT_HOM: 1, Need.HET: 0, Need.NOTHING: 0}

# A need that applies always (None), only if the person is affected (True) or only if unaffected (False).
Needs = dict[str, list[tuple[Need, bool | None]]]


@dataclass(frozen=True)
class _Person:
    calls: npt.NDArray[np.int8] | None  # None: not genotyped
    sex: Sex
    affection: Affection


class _Stretch:
    """The variants of one kind of stretch (autosomal, X, Y, M), where each person's ploidy is fixed
    by their sex: each rule is a set of needs per person, judged exactly.

    A person's needs are combined into the calls they allow before the call is looked at, for each
    value their unknown sex or affection could take; so `yes` means every filling of what is missing
    (call, sex, affection) meets the needs and `maybe` that one does. People are independent, so
    the AND over people is exact too. Answers are codes: bit 0 yes, bit 1 maybe, so that one
    bitwise AND combines both.
    """

    def __init__(self, people: Mapping[str, _Person], idx: npt.NDArray[np.int64], haploid_for: frozenset[Sex]) -> None:
        self.people = people
        self.idx = idx
        self.haploid_for = haploid_for
        self._index: dict[str, npt.NDArray[np.uint8]] = {}

    def _lookup(self, pid: str) -> npt.NDArray[np.uint8] | None:
        """The person's calls here as table indices: 0 missing, 1 + copies otherwise."""
        calls = self.people[pid].calls
        if calls is None:
            return None
        if pid not in self._index:
            self._index[pid] = (calls[self.idx] + np.int8(1)).view(np.uint8)
        return self._index[pid]

    def allowed(self, pid: str, needs: list[tuple[Need, bool | None]], sex: Sex | None = None) -> list[int]:
        """The calls (as bits) `needs` allow, for each value the person's unknown sex or affection may take."""
        person = self.people[pid]
        sex = sex or person.sex
        sexes = (Sex.MALE, Sex.FEMALE) if sex is Sex.UNKNOWN else (sex,)
        affected = (True, False) if person.affection is Affection.UNKNOWN else (person.affection is Affection.AFFECTED,)
        out = []
        for one_sex in sexes:
            allowed_by = _HAPLOID if one_sex in self.haploid_for else _DIPLOID
            for aff in affected:
                allowed = 7
                for need, when in needs:
                    if when is None or when is aff:
                        allowed &= allowed_by[need]
                out.append(allowed)
        return out

    def person(self, pid: str, needs: list[tuple[Need, bool | None]], sex: Sex | None = None) -> npt.NDArray[np.uint8]:
        table = np.full(4, 1, dtype=np.uint8)  # by call + 1 (missing, 0, 1, 2): yes (bit 0), maybe (bit 1)
        maybe = np.zeros(4, dtype=np.uint8)
        for allowed in self.allowed(pid, needs, sex):
            fits = np.array([allowed == 7, allowed & 1, allowed & 2, allowed & 4], dtype=np.bool_)
            table &= fits
            maybe |= np.array([allowed != 0, *fits[1:]], dtype=np.uint8)
        table |= maybe << 1
        lookup = self._lookup(pid)
        return table[:1] if lookup is None else table[lookup]

    def rule(self, needs: Needs | None, sex_of: Mapping[str, Sex] | None = None) -> npt.NDArray[np.uint8]:
        """The code per variant of this stretch for `needs` (None: the rule cannot hold here)."""
        out = np.full(self.idx.size, 0 if needs is None else 3, dtype=np.uint8)
        for pid, person_needs in (needs or {}).items():
            out &= self.person(pid, person_needs, (sex_of or {}).get(pid))
        return out


def _tri(code: npt.NDArray[np.uint8]) -> Tri:
    return Tri((code & 1).view(np.bool_), (code >> 1).view(np.bool_))


def _merge(*parts: Needs | None) -> Needs | None:
    out: Needs = {}
    for part in parts:
        if part is None:
            return None
        for pid, needs in part.items():
            out.setdefault(pid, []).extend(needs)
    return out


# --- results -------------------------------------------------------------------------------------


def _bit(field: npt.NDArray[np.uint8], mode: Mode) -> Bool:
    out: Bool = (field & np.uint8(mode)) != 0
    return out


@dataclass(frozen=True)
class ModeCalls:
    """Bit fields of `Mode` per variant: the modes the data fit, and those they leave untold."""

    fits: npt.NDArray[np.uint8]
    untold: npt.NDArray[np.uint8]

    def has(self, mode: Mode) -> Bool:
        return _bit(self.fits, mode)

    def is_untold(self, mode: Mode) -> Bool:
        return _bit(self.untold, mode)

    def possible(self, mode: Mode) -> Bool:
        """Fits or untold: what a candidate filter keeps when it must not drop what cannot be told."""
        return _bit(self.fits | self.untold, mode)

    def counts(self) -> dict[Mode, tuple[int, int]]:
        """Mode → (variants that fit, variants untold)."""
        return {m: (int(self.has(m).sum()), int(self.is_untold(m).sum())) for m in ALL_MODES}


@dataclass(frozen=True)
class CompoundHetPairs:
    """Pairs of variants (row indices, first < second) in one gene: phased in trans, or unphased."""

    first: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]
    phased: Bool  # True: one from each parent; False: untold (unphased, or a call missing)

    def __len__(self) -> int:
        return int(self.first.size)


@dataclass(frozen=True)
class _PairFeatures:
    """What decides a pair, for the variants that may be in one (compound-het candidates)."""

    index: npt.NDArray[np.int64]  # row of each candidate variant
    gene: npt.NDArray[np.int64]
    sure: Bool  # the variant itself certainly qualifies
    origin: npt.NDArray[np.uint8]  # 0 untold, 1 paternal, 2 maternal
    carry_yes: npt.NDArray[np.uint64]  # bit e: excluder e (unaffected parent/sibling) surely carries it
    carry_maybe: npt.NDArray[np.uint64]  # bit e: excluder e may carry it


@dataclass(frozen=True)
class InheritanceResult:
    proband_id: str
    samples: tuple[str, ...]
    structure: Structure
    proband: ModeCalls
    family: ModeCalls
    cannot_tell: Mapping[Mode, tuple[str, ...]]
    _pairs: Mapping[str, _PairFeatures] = field(repr=False)

    def level(self, level: Level) -> ModeCalls:
        return self.proband if level == "proband" else self.family

    def compound_het_pairs(
        self, *, level: Level = "family", among: Bool | None = None, max_pairs: int = 20_000_000
    ) -> CompoundHetPairs:
        """The pairs behind the COMPOUND_HET bits, among the variants `among` selects (e.g. rare, damaging).

        Pairs that fit have `phased` True; untold (unphased) pairs False; excluded pairs are left out.
        Refuses (CaseError) when the selection would make more than `max_pairs` candidate pairs.
        """
        f = self._pairs[level]
        keep = np.ones(f.index.size, dtype=np.bool_) if among is None else np.asarray(among)[f.index]
        idx = np.flatnonzero(keep)
        if idx.size < 2:
            empty = np.zeros(0, dtype=np.int64)
            return CompoundHetPairs(empty, empty, np.zeros(0, dtype=np.bool_))
        gene = f.gene[idx]
        order = np.argsort(gene, kind="stable")
        idx, gene = idx[order], gene[order]
        starts = np.flatnonzero(np.r_[True, gene[1:] != gene[:-1]])
        sizes = np.diff(np.r_[starts, gene.size])
        total = int((sizes.astype(np.int64) ** 2).sum())
        if total > max_pairs:
            raise CaseError(
                f"{total:,} candidate pairs among {idx.size:,} variants; select fewer variants "
                "(rare, damaging) with `among=` before listing compound heterozygous pairs"
            )
        a, b = _pairs_within_groups(starts, sizes)
        upper = a < b
        a, b = idx[a[upper]], idx[b[upper]]
        status = _pair_status(f, a, f, b)
        found = status > 0
        return CompoundHetPairs(f.index[a[found]], f.index[b[found]], status[found] == 2)


def _pairs_within_groups(
    starts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every ordered (a, b) with a and b in the same group (groups are runs `starts[i]`, `sizes[i]` long)."""
    sizes = sizes.astype(np.int64)
    group_of = np.repeat(np.arange(sizes.size), sizes)
    items = np.arange(int(sizes.sum()))
    reps = sizes[group_of]  # each item pairs with every item of its group
    a = np.repeat(items, reps)
    first_pair = np.cumsum(reps) - reps
    within = np.arange(a.size) - np.repeat(first_pair, reps)
    b = np.repeat(starts[group_of], reps) + within
    return a, b


def _pair_status(
    fa: _PairFeatures, a: npt.NDArray[np.int64], fb: _PairFeatures, b: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:
    """0 excluded, 1 untold (unphased), 2 fits (in trans, by the parents) for each pair (a[i], b[i])."""
    oa, ob = fa.origin[a], fb.origin[b]
    cis = (oa == ob) & (oa != 0)
    shown = (fa.carry_yes[a] & fb.carry_yes[b]) != 0
    maybe_shown = (fa.carry_maybe[a] & fb.carry_maybe[b]) != 0
    trans = (oa != 0) & (ob != 0) & (oa != ob)
    fits = fa.sure[a] & fb.sure[b] & trans & ~maybe_shown
    return np.where(cis | shown, 0, np.where(fits, 2, 1)).astype(np.int8)


# --- the analysis --------------------------------------------------------------------------------


def inheritance_modes(
    pedigree: Pedigree,
    genotypes: npt.NDArray[np.integer[Any]],
    *,
    samples: Sequence[str],
    chrom_class: npt.NDArray[np.uint8],
    gene: npt.NDArray[np.integer[Any]] | None = None,
    proband: str | None = None,
) -> InheritanceResult:
    """Which modes each variant fits, for the proband (default: the pedigree's, else its only
    genotyped affected member) and for the whole family. Columns of `genotypes` not in the pedigree
    are ignored; members without a column count as not genotyped."""
    g = _check_inputs(genotypes, samples, chrom_class, gene)
    n = g.shape[0]
    column = {s: i for i, s in enumerate(samples) if s in pedigree}
    try:
        proband_id = proband if proband is not None else pedigree.default_proband(column)
        p = pedigree.member(proband_id)
    except PedigreeError as exc:
        raise CaseError(str(exc)) from exc
    if proband_id not in column:
        raise CaseError(f"the proband {proband_id} has no genotypes; the samples are {listing(list(samples))}")
    if not p.affected:
        raise CaseError(
            f"the proband {proband_id} is not marked affected in family {pedigree.family_id}; "
            "set their PED phenotype to 2 (Phenopacket affectedStatus AFFECTED)"
        )
    cls = np.asarray(chrom_class, dtype=np.uint8)
    genes = np.full(n, -1, dtype=np.int64) if gene is None else np.asarray(gene, dtype=np.int64)
    people = {
        m.id: _Person(np.ascontiguousarray(g[:, column[m.id]]) if m.id in column else None, m.sex, m.affection)
        for m in pedigree
    }
    father, mother = pedigree.parents_of(proband_id)
    fid = father.id if father is not None else _NO_FATHER
    mid = mother.id if mother is not None else _NO_MOTHER
    people[_NO_FATHER] = _Person(None, Sex.MALE, Affection.UNKNOWN)  # a parent the pedigree does not record
    people[_NO_MOTHER] = _Person(None, Sex.FEMALE, Affection.UNKNOWN)
    rules = _Rules(pedigree, proband_id, fid, mid, set(column))
    kinds = {
        "auto": ((cls == ChromClass.AUTOSOME) | (cls == ChromClass.PAR), frozenset[Sex]()),
        "x": (cls == ChromClass.X, frozenset({Sex.MALE})),
        "y": (cls == ChromClass.Y, frozenset({Sex.MALE, Sex.FEMALE})),
        "mt": (cls == ChromClass.MT, frozenset({Sex.MALE, Sex.FEMALE})),
    }
    stretches = {
        kind: _Stretch(people, np.flatnonzero(mask), haploid_for) for kind, (mask, haploid_for) in kinds.items()
    }
    levels: dict[str, dict[Mode, npt.NDArray[np.uint8]]] = {"proband": {}, "family": {}}
    pairs: dict[str, _PairFeatures] = {}
    for level, family in (("proband", False), ("family", True)):
        for mode, kinds_of_mode in _STRETCHES_OF.items():
            code = np.zeros(n, dtype=np.uint8)
            for kind in kinds_of_mode:
                stretch = stretches[kind]
                if stretch.idx.size:
                    needs = {s: rules.needs(mode, kind, s, family=family) for s in (Sex.MALE, Sex.FEMALE)}
                    code[stretch.idx] = _by_proband_sex(stretch, proband_id, needs)
            levels[level][mode] = code
        genic = _Stretch(people, np.flatnonzero(kinds["auto"][0] & (genes >= 0)), frozenset())
        half = rules.comphet_needs(family=family)
        cand = _tri(genic.rule(half))
        # What a parent's missing call can be where the variant qualifies (an affected parent must be het)
        may = {pid: functools.reduce(operator.or_, genic.allowed(pid, half.get(pid, [])), 0) for pid in (fid, mid)}
        pairs[level] = _pair_features(people, genic.idx, cand, genes, (fid, mid), may, rules.excluders(family=family))
        levels[level][Mode.COMPOUND_HET] = _comphet_bits(pairs[level], n)

    structure = pedigree.structure(proband_id, genotyped=column)
    proband_calls, family_calls = _pack(levels["proband"], n), _pack(levels["family"], n)
    return InheritanceResult(
        proband_id=proband_id,
        samples=tuple(samples),
        structure=structure,
        proband=proband_calls,
        family=family_calls,
        cannot_tell=_cannot_tell(pedigree, structure, proband_calls, family_calls),
        _pairs=pairs,
    )


_NO_FATHER, _NO_MOTHER = "\0father", "\0mother"  # stand-ins for parents the pedigree does not record

# The stretches each mode is judged on (compound het apart).
_STRETCHES_OF: Final = {
    Mode.DE_NOVO: ("auto", "x", "y"),
    Mode.AUTOSOMAL_RECESSIVE_HOM: ("auto",),
    Mode.X_LINKED_RECESSIVE: ("x",),
    Mode.AUTOSOMAL_DOMINANT: ("auto",),
    Mode.MITOCHONDRIAL: ("mt",),
}


def _by_proband_sex(stretch: _Stretch, pid: str, needs: Mapping[Sex, Needs | None]) -> npt.NDArray[np.uint8]:
    """A rule that depends on the proband's sex; for unknown sex it fits only if it fits either way."""
    sex = stretch.people[pid].sex
    if sex is not Sex.UNKNOWN:
        return stretch.rule(needs[sex])
    as_male = stretch.rule(needs[Sex.MALE], {pid: Sex.MALE})
    as_female = stretch.rule(needs[Sex.FEMALE], {pid: Sex.FEMALE})
    return (as_male & as_female & np.uint8(1)) | ((as_male | as_female) & np.uint8(2))


class _Rules:
    """The rules of the module docstring as needs per person, for one proband."""

    def __init__(self, pedigree: Pedigree, pid: str, fid: str, mid: str, typed: set[str]) -> None:
        self.pedigree, self.pid, self.fid, self.mid, self.typed = pedigree, pid, fid, mid, typed
        # Genotyped relatives who count at the family level (unknown affection counts for neither).
        self.affected = [m for m in pedigree if m.affected and m.id != pid and m.id in typed]
        self.unaffected = [m for m in pedigree if m.unaffected and m.id in typed]

    def needs(self, mode: Mode, kind: str, sex: Sex, *, family: bool) -> Needs | None:
        trio = self._trio(mode, kind, sex)
        return _merge(trio, self._family(mode)) if family else trio

    def _trio(self, mode: Mode, kind: str, sex: Sex) -> Needs | None:
        P, F, M = self.pid, self.fid, self.mid
        C, R, H, NH, HET = Need.CARRIES, Need.REF, Need.HOM, Need.NOT_HOM, Need.HET
        if mode is Mode.DE_NOVO:
            if kind == "auto" or (kind == "x" and sex is Sex.FEMALE):
                return {P: [(C, None)], F: [(R, None)], M: [(R, None)]}
            if kind == "x":  # a son's X is his mother's
                return {P: [(C, None)], M: [(R, None)]}
            return {P: [(C, None)], F: [(R, None)]} if sex is Sex.MALE else None  # chrY
        if mode is Mode.AUTOSOMAL_RECESSIVE_HOM:
            return {P: [(H, None)], F: [(C, None), (NH, False)], M: [(C, None), (NH, False)]}
        if mode is Mode.X_LINKED_RECESSIVE:
            if sex is Sex.MALE:  # from a carrier mother; a carrier father would be affected
                return {P: [(H, None)], M: [(C, None), (NH, False)], F: [(R, False)]}
            return {P: [(H, None)], F: [(C, None), (Need.NOTHING, False)], M: [(C, None), (NH, False)]}
        if mode is Mode.AUTOSOMAL_DOMINANT:
            # From an affected parent or de novo, i.e. from no unaffected parent: when no unaffected
            # parent carries it, either an affected one does or neither does.
            return {P: [(HET, None)], F: [(R, False)], M: [(R, False)]}
        return {P: [(C, None)], M: [(C, None)]}  # mitochondrial

    def _family(self, mode: Mode) -> Needs:
        C, R, H, NH = Need.CARRIES, Need.REF, Need.HOM, Need.NOT_HOM
        share = {Mode.DE_NOVO: C, Mode.AUTOSOMAL_RECESSIVE_HOM: H, Mode.X_LINKED_RECESSIVE: H}
        share |= {Mode.AUTOSOMAL_DOMINANT: Need.HET, Mode.MITOCHONDRIAL: C}
        show = {Mode.DE_NOVO: R, Mode.AUTOSOMAL_RECESSIVE_HOM: NH, Mode.X_LINKED_RECESSIVE: NH}
        show |= {Mode.AUTOSOMAL_DOMINANT: R}
        out: Needs = {}
        for a in self.affected:
            out.setdefault(a.id, []).append((share[mode], None))
            parents = [p for p in a.parents if p in self.typed]
            if mode is Mode.AUTOSOMAL_RECESSIVE_HOM:
                for p in parents:
                    out.setdefault(p, []).append((C, None))
            if a.mother in self.typed and (
                mode is Mode.MITOCHONDRIAL or (mode is Mode.X_LINKED_RECESSIVE and a.sex is Sex.MALE)
            ):
                out.setdefault(a.mother, []).append((C, None))
        if mode in show:
            for u in self.unaffected:
                out.setdefault(u.id, []).append((show[mode], None))
        return out

    def comphet_needs(self, *, family: bool) -> Needs:
        """One half of a compound het: the proband het, and no unaffected parent (member) hom."""
        out: Needs = {
            self.pid: [(Need.HET, None)],
            self.fid: [(Need.NOT_HOM, False)],
            self.mid: [(Need.NOT_HOM, False)],
        }
        if family:
            for a in self.affected:
                out.setdefault(a.id, []).append((Need.HET, None))
            for u in self.unaffected:
                out.setdefault(u.id, []).append((Need.NOT_HOM, None))
        return out

    def excluders(self, *, family: bool) -> list[str]:
        """Who excludes a pair by carrying both: the proband's parents when unaffected and, for the
        family, every genotyped unaffected parent or sibling of an affected member."""
        out = [self.fid, self.mid]
        if family:
            for a in [self.pedigree.member(self.pid), *self.affected]:
                for rel in (
                    *(x for x in self.pedigree.parents_of(a.id) if x is not None),
                    *self.pedigree.siblings_of(a.id),
                ):
                    if rel.unaffected and rel.id in self.typed and rel.id not in out:
                        out.append(rel.id)
        return out


def _check_inputs(
    genotypes: npt.NDArray[np.integer[Any]],
    samples: Sequence[str],
    chrom_class: npt.NDArray[np.uint8],
    gene: npt.NDArray[np.integer[Any]] | None,
) -> npt.NDArray[np.int8]:
    g = np.asarray(genotypes)
    if g.ndim != 2 or g.dtype.kind not in "iu":
        raise CaseError(
            f"genotypes of shape {g.shape} and type {g.dtype}; expected an integer matrix variants × samples"
        )
    if g.shape[1] != len(samples):
        raise CaseError(f"{g.shape[1]} genotype columns but {len(samples)} sample names")
    if len(set(samples)) != len(samples):
        dups = sorted({s for s in samples if list(samples).count(s) > 1})
        raise CaseError(f"sample names repeated: {listing(dups)}; each column needs its own member")
    if np.shape(chrom_class) != (g.shape[0],) or (gene is not None and np.shape(gene) != (g.shape[0],)):
        raise CaseError(f"chrom_class and gene need one value per variant ({g.shape[0]})")
    if g.size and (int(g.min()) < MISSING or int(g.max()) > 2):
        raise CaseError(
            "genotype values outside -1..2; the matrix holds ALT copies per call (0, 1, 2) and -1 for a "
            "no-call: build it with genotype_matrix()"
        )
    return g.astype(np.int8, copy=False)


def _pair_features(
    people: Mapping[str, _Person],
    idx: npt.NDArray[np.int64],
    cand: Tri,
    genes: npt.NDArray[np.int64],
    parents: tuple[str, str],
    may: Mapping[str, int],
    excluders: list[str],
) -> _PairFeatures:
    """Phase and carriers of each candidate. A variant is paternal where the father surely carries it
    and the mother surely does not (a missing call counts as sure when the candidate's own needs leave
    that parent one possibility), maternal the other way."""
    if len(excluders) > 64:
        raise CaseError(
            f"{len(excluders)} unaffected parents and siblings can exclude a compound het; at most 64 are supported"
        )
    keep = cand.maybe
    rows = idx[keep]
    origin = np.zeros(rows.size, dtype=np.uint8)
    fid, mid = parents
    dad, mum = people[fid].calls, people[mid].calls
    if dad is not None and mum is not None:
        d, m = dad[rows], mum[rows]
        d_carries = (d >= 1) | ((d < 0) & (may[fid] & 1 == 0))
        d_ref = (d == 0) | ((d < 0) & (may[fid] == 1))
        m_carries = (m >= 1) | ((m < 0) & (may[mid] & 1 == 0))
        m_ref = (m == 0) | ((m < 0) & (may[mid] == 1))
        origin[d_carries & m_ref] = 1  # paternal
        origin[m_carries & d_ref] = 2  # maternal
    carry_yes = np.zeros(rows.size, dtype=np.uint64)
    carry_maybe = np.zeros(rows.size, dtype=np.uint64)
    for bit, who in enumerate(excluders):
        person = people[who]
        if person.affection is Affection.AFFECTED:
            continue
        value = np.uint64(1) << np.uint64(bit)
        calls = person.calls[rows] if person.calls is not None else np.full(rows.size, MISSING, dtype=np.int8)
        if person.affection is Affection.UNAFFECTED:
            carry_yes |= np.where(calls >= 1, value, np.uint64(0))
        carry_maybe |= np.where((calls >= 1) | (calls < 0), value, np.uint64(0))
    return _PairFeatures(
        index=rows.astype(np.int64),
        gene=genes[rows],
        sure=cand.yes[keep],
        origin=origin,
        carry_yes=carry_yes,
        carry_maybe=carry_maybe,
    )


def _comphet_bits(f: _PairFeatures, n: int) -> npt.NDArray[np.uint8]:
    """Per variant: in some pair that fits (yes), or in some pair not excluded (maybe).

    Variants are grouped into classes of equal (gene, sure, origin, carrier masks), which decide a
    pair; pairs of classes within a gene are few, so every pair is judged without listing variant pairs.
    """
    code = np.zeros(n, dtype=np.uint8)
    if f.index.size < 2:
        return code
    key = np.stack(
        [
            f.gene.astype(np.uint64),
            f.sure.astype(np.uint64) * np.uint64(4) + f.origin.astype(np.uint64),
            f.carry_yes,
            f.carry_maybe,
        ],
        axis=1,
    )
    packed = _pack_keys(key)
    if packed is not None:
        _, first, inverse, counts = np.unique(packed, return_index=True, return_inverse=True, return_counts=True)
    else:
        _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    rep = first.astype(np.int64)  # one variant standing for each class, classes sorted by gene first
    cls_gene = f.gene[rep]
    starts = np.flatnonzero(np.r_[True, cls_gene[1:] != cls_gene[:-1]])
    sizes = np.diff(np.r_[starts, cls_gene.size])
    a, b = _pairs_within_groups(starts, sizes)
    valid = (a != b) | (counts[a] >= 2)
    a, b = a[valid], b[valid]
    status = _pair_status(f, rep[a], f, rep[b])
    cls_yes = np.zeros(rep.size, dtype=np.bool_)
    cls_maybe = np.zeros(rep.size, dtype=np.bool_)
    cls_yes[a[status == 2]] = True
    cls_maybe[a[status >= 1]] = True
    code[f.index] = cls_yes[inverse].view(np.uint8) | (cls_maybe[inverse].view(np.uint8) << 1)
    return code


def _pack_keys(key: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64] | None:
    """The class key columns in one uint64 (gene first, so sorting groups genes), when they fit."""
    mask_bits = max(int(key[:, 2:].max()).bit_length(), 1)
    gene_bits = max(int(key[:, 0].max()).bit_length(), 1)
    if gene_bits + 3 + 2 * mask_bits > 64:
        return None
    maybe_at = np.uint64(0)
    yes_at = np.uint64(mask_bits)
    sure_origin_at = np.uint64(2 * mask_bits)
    gene_at = np.uint64(2 * mask_bits + 3)
    packed: npt.NDArray[np.uint64] = (
        (key[:, 0] << gene_at) | (key[:, 1] << sure_origin_at) | (key[:, 2] << yes_at) | (key[:, 3] << maybe_at)
    )
    return packed


def _pack(codes: dict[Mode, npt.NDArray[np.uint8]], n: int) -> ModeCalls:
    fits = np.zeros(n, dtype=np.uint8)
    untold = np.zeros(n, dtype=np.uint8)
    for mode, code in codes.items():
        fits |= (code & 1) * np.uint8(mode)
        untold |= ((code >> 1) & ~code & 1) * np.uint8(mode)
    return ModeCalls(fits, untold)


def _cannot_tell(
    pedigree: Pedigree, s: Structure, proband: ModeCalls, family: ModeCalls
) -> dict[Mode, tuple[str, ...]]:
    """Per mode, in words: what the family's structure and its missing calls leave untold."""
    p = pedigree.member(s.proband)
    has_f, has_m = s.father is not None, s.mother is not None
    notes: dict[Mode, list[str]] = {m: [] for m in ALL_MODES}
    if not has_f and not has_m:
        notes[Mode.DE_NOVO].append("no parent genotyped: a de novo variant cannot be told from an inherited one")
        notes[Mode.AUTOSOMAL_RECESSIVE_HOM].append("no parent genotyped: that both parents carry it is unchecked")
        notes[Mode.COMPOUND_HET].append("no parent genotyped: no pair can be phased; every pair is unphased")
        notes[Mode.AUTOSOMAL_DOMINANT].append(
            "no parent genotyped: inheritance from an affected parent or de novo cannot be told"
        )
    elif not (has_f and has_m):
        missing = "father" if not has_f else "mother"
        notes[Mode.DE_NOVO].append(
            f"the {missing} is not genotyped: de novo cannot be told"
            + (" (on chrX a son's can: he has only his mother's X)" if missing == "father" else "")
        )
        notes[Mode.AUTOSOMAL_RECESSIVE_HOM].append(f"the {missing}'s carrier status is unchecked")
        notes[Mode.COMPOUND_HET].append(
            f"the {missing} is not genotyped: pairs cannot be phased by the parents; every pair is unphased"
        )
        notes[Mode.AUTOSOMAL_DOMINANT].append(
            f"the {missing} is not genotyped: whether it came from the {missing} or is de novo cannot be told"
        )
    else:
        notes[Mode.COMPOUND_HET].append(
            "a pair stays unphased where a parent's call is missing or a variant is in neither parent (de novo); "
            "where both parents carry one variant, the parent of the other carries both and the pair is excluded"
        )
    if not has_m:
        notes[Mode.X_LINKED_RECESSIVE].append("the mother is not genotyped: that she carries it is unchecked")
        notes[Mode.MITOCHONDRIAL].append("the mother is not genotyped: maternal transmission is unchecked")
    if p.sex is Sex.UNKNOWN:
        for mode in (Mode.DE_NOVO, Mode.X_LINKED_RECESSIVE):
            notes[mode].append(f"{s.proband}'s sex is unknown: on chrX a call fits only if it fits either sex")
    father, mother = pedigree.parents_of(s.proband)
    for role, parent, typed in (("father", father, has_f), ("mother", mother, has_m)):
        if parent is not None and typed and parent.affection is Affection.UNKNOWN:
            for mode in (Mode.AUTOSOMAL_DOMINANT, Mode.AUTOSOMAL_RECESSIVE_HOM, Mode.X_LINKED_RECESSIVE):
                notes[mode].append(
                    f"the {role} {parent.id}'s affection is unknown: a variant they carry neither fits nor excludes"
                )
    family_notes: list[str] = []
    if s.unknown_status:
        family_notes.append(f"affection unknown for {listing(list(s.unknown_status))}: not used at the family level")
    if s.ungenotyped_affected:
        family_notes.append(f"affected but not genotyped: {listing(list(s.ungenotyped_affected))}; not checked")
    if s.shape is FamilyShape.SINGLETON:
        family_notes.append("singleton: the family level is the proband alone")
    for mode in ALL_MODES:
        n_p = int(proband.is_untold(mode).sum())
        n_f = int(family.is_untold(mode).sum())
        if n_p or n_f:
            notes[mode].append(f"untold for {_variants(n_p)} at the proband level, {_variants(n_f)} for the family")
        notes[mode].extend(family_notes)
    if s.affected_relatives:
        notes[Mode.COMPOUND_HET].append(
            "other affected members must be het at both variants; their own phase is not checked"
        )
    return {m: tuple(v) for m, v in notes.items()}


def _variants(n: int) -> str:
    return f"{n:,} variant{'' if n == 1 else 's'}"
