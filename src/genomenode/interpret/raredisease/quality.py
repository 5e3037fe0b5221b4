"""Genotype and site quality filters for a family's variants, vectorised over (variants × samples).

Defaults are gnomAD's "adj" (high-quality genotype) criteria: GQ ≥ 20, DP ≥ 10 and, for a
heterozygous call, each called ALT allele carrying ≥ 20 % of the reads (AD/sum(AD)); see
gnomad_methods' `annotate_adj`/`get_adj_expr` (gnomad.utils.annotations). We add the symmetric
upper bound 0.8, so a "het" carried by nearly all reads (a likely hom-alt or a mapping artefact)
fails too, and the site FILTER must be PASS or `.` (VCF 4.x: `.` means filters were not applied).

What each check needs, and what happens without it:

* GQ, DP: the FORMAT fields. Absent from the file → that check is not applied, and the result
  says so (`not_applied`). A missing value in one genotype (`.`, as htslib's -1) fails no check:
  it is counted in `missing` instead, because nothing says the call is bad.
* Allele balance: FORMAT/AD, read only for heterozygous calls. Absent → not applied.
  A het whose AD sums to 0 or holds a missing value is counted as missing.
* FILTER: always applied when given; None → not applied.

Calls that are missing (`./.`) fail nothing here: whether a missing call matters is the
inheritance model's question. GQ and DP apply to every called genotype, hom-ref included, since a
parent's confident hom-ref is what makes a child's variant de novo.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.errors import CaseError


class Check(enum.IntFlag):
    """One bit per filter, so a (variant, sample) cell holds every check it failed."""

    GQ = 1
    DP = 2
    ALLELE_BALANCE = 4
    FILTER = 8


CHECK_LABELS: Mapping[Check, str] = {
    Check.GQ: "GQ",
    Check.DP: "DP",
    Check.ALLELE_BALANCE: "allele balance",
    Check.FILTER: "FILTER",
}


@dataclass(frozen=True)
class QualityFilter:
    """Thresholds a user may change; None switches a check off."""

    min_gq: int | None = 20
    min_dp: int | None = 10
    het_allele_balance: tuple[float, float] | None = (0.2, 0.8)
    pass_filters: frozenset[str] = field(default_factory=lambda: frozenset({"PASS", "."}))

    def __post_init__(self) -> None:
        for name in ("min_gq", "min_dp"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise CaseError(
                    f"quality filter {name} is {value!r}; give a whole number ≥ 0, or none to switch it off"
                )
        if self.het_allele_balance is not None:
            lo, hi = self.het_allele_balance
            if not 0.0 <= lo <= hi <= 1.0:
                raise CaseError(
                    f"quality filter het_allele_balance is {self.het_allele_balance!r}; give (low, high) with "
                    "0 ≤ low ≤ high ≤ 1, such as (0.2, 0.8)"
                )
        if not self.pass_filters:
            raise CaseError("quality filter pass_filters is empty; at least PASS must count as passing")

    def describe(self) -> str:
        parts = []
        if self.min_gq is not None:
            parts.append(f"GQ ≥ {self.min_gq}")
        if self.min_dp is not None:
            parts.append(f"DP ≥ {self.min_dp}")
        if self.het_allele_balance is not None:
            parts.append(f"het allele balance {self.het_allele_balance[0]:g}–{self.het_allele_balance[1]:g}")
        parts.append("FILTER " + "/".join(sorted(self.pass_filters)))
        return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class QualityResult:
    """Which checks each genotype and site failed.

    `genotype_failed` (variants × samples, uint8 bits of `Check`) includes the site's FILTER bit
    in every sample, so `genotype_pass` is `genotype_failed == 0`.
    """

    genotype_failed: npt.NDArray[np.uint8]
    site_failed: npt.NDArray[np.bool_]  # FILTER not in pass_filters
    filter_values: pa.Array | None  # the FILTER text of each site, as given
    applied: frozenset[Check]
    not_applied: Mapping[Check, str]  # check → why (which FORMAT field the file lacks)
    missing: Mapping[Check, int]  # genotypes the check could not judge (missing values)

    @property
    def genotype_pass(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.genotype_failed == 0, dtype=np.bool_)

    def variant_failed(self, samples: Sequence[int] | npt.NDArray[np.integer] | None = None) -> npt.NDArray[np.uint8]:
        """Per variant, the checks failed by the site or by any of `samples` (columns; all when None)."""
        cells = self.genotype_failed if samples is None else self.genotype_failed[:, np.asarray(samples, dtype=np.intp)]
        if cells.shape[1] == 0:
            return np.where(self.site_failed, np.uint8(Check.FILTER), np.uint8(0)).astype(np.uint8)
        return np.asarray(np.bitwise_or.reduce(cells, axis=1), dtype=np.uint8)

    def reasons(
        self,
        samples: Sequence[int] | npt.NDArray[np.integer] | None = None,
        *,
        quality: QualityFilter | None = None,
        sample_names: Sequence[str] | None = None,
    ) -> npt.NDArray[np.object_]:
        """A readable reason per variant ("" when it passes), e.g. `FILTER=LowQual; GQ < 20 (mother)`.

        Each distinct failure pattern is written once and spread with an index, so this costs
        a sort of one integer per variant, not a string per variant.
        """
        n, s_all = self.genotype_failed.shape
        cols = np.arange(s_all) if samples is None else np.asarray(samples, dtype=np.intp)
        names = [sample_names[c] if sample_names is not None else f"sample {c + 1}" for c in cols]
        if n == 0:
            return np.array([], dtype=object)
        if self.filter_values is not None:
            site_text = pc.if_else(pa.array(self.site_failed), self.filter_values.cast(pa.string()), "")
            encoded = site_text.dictionary_encode()
            site_labels = [str(v) for v in encoded.dictionary.to_pylist()]
            site_code = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        else:
            site_labels, site_code = [""], np.zeros(n, dtype=np.int64)
        bits = len(_SAMPLE_CHECKS)
        if bits * len(cols) + len(site_labels).bit_length() > 62:
            raise ValueError(f"reasons() handles at most {60 // bits} samples at a time; pass `samples`")
        key = site_code << (bits * len(cols))
        for j, c in enumerate(cols):
            key |= (self.genotype_failed[:, c].astype(np.int64) & _SAMPLE_MASK) << (bits * j)
        patterns, inverse = np.unique(key, return_inverse=True)
        texts = np.empty(len(patterns), dtype=object)
        for p, pattern in enumerate(patterns.tolist()):
            parts = []
            site = site_labels[pattern >> (bits * len(cols))]
            if site:
                parts.append(f"FILTER={site}")
            for check in _SAMPLE_CHECKS:
                who = [names[j] for j in range(len(cols)) if (pattern >> (bits * j)) & check]
                if who:
                    parts.append(f"{_threshold(check, quality)} ({', '.join(who)})")
            texts[p] = "; ".join(parts)
        return np.asarray(texts[inverse.ravel()], dtype=object)


_SAMPLE_CHECKS = (Check.GQ, Check.DP, Check.ALLELE_BALANCE)
_SAMPLE_MASK = int(Check.GQ | Check.DP | Check.ALLELE_BALANCE)


def _threshold(check: Check, quality: QualityFilter | None) -> str:
    if quality is None:
        return f"{CHECK_LABELS[check]} failed"
    if check is Check.GQ:
        return f"GQ < {quality.min_gq}"
    if check is Check.DP:
        return f"DP < {quality.min_dp}"
    assert quality.het_allele_balance is not None
    lo, hi = quality.het_allele_balance
    return f"het allele balance outside {lo:g}–{hi:g}"


def _as_filter_array(filters: Sequence[str] | npt.NDArray[np.object_] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(filters, pa.ChunkedArray):
        return filters.combine_chunks()
    if isinstance(filters, pa.Array):
        return filters
    return pa.array(np.asarray(filters, dtype=object), type=pa.string())


def apply_quality(
    quality: QualityFilter,
    gt: npt.NDArray[np.integer],
    *,
    gq: npt.NDArray[np.integer] | npt.NDArray[np.floating] | None = None,
    dp: npt.NDArray[np.integer] | npt.NDArray[np.floating] | None = None,
    ad: npt.NDArray[np.integer] | None = None,
    filters: Sequence[str] | npt.NDArray[np.object_] | pa.Array | pa.ChunkedArray | None = None,
) -> QualityResult:
    """Run the checks over a family's calls.

    `gt` is variants × samples × ploidy allele indexes (-1 missing, -2 absent for lower ploidy,
    as `ingest.vcf` gives them); `gq`, `dp` are variants × samples and `ad` variants × samples ×
    alleles (REF first), where any negative value (htslib's missing and vector-end sentinels, or
    `format_as_int`'s -1) or NaN is a missing value; `filters` is the FILTER text per variant
    (None counts as `.`). Pass None for a FORMAT field the file does not have.
    """
    if gt.ndim != 3:
        raise ValueError(f"gt must be variants × samples × ploidy, got shape {gt.shape}")
    n, s, _ = gt.shape
    failed = np.zeros((n, s), dtype=np.uint8)
    called = _called(gt)
    applied: set[Check] = set()
    not_applied: dict[Check, str] = {}
    missing: dict[Check, int] = {}

    for check, values, threshold, fmt in (
        (Check.GQ, gq, quality.min_gq, "GQ"),
        (Check.DP, dp, quality.min_dp, "DP"),
    ):
        if threshold is None:
            not_applied[check] = f"switched off (min_{fmt.lower()} is None)"
            continue
        if values is None:
            not_applied[check] = f"the VCF has no FORMAT/{fmt}"
            continue
        arr = _matrix(values, n, s, fmt)
        absent = np.isnan(arr)
        low = called & ~absent & (arr < threshold)
        failed |= np.where(low, np.uint8(check), np.uint8(0))
        missing[check] = int((called & absent).sum())
        applied.add(check)

    if quality.het_allele_balance is None:
        not_applied[Check.ALLELE_BALANCE] = "switched off (het_allele_balance is None)"
    elif ad is None:
        not_applied[Check.ALLELE_BALANCE] = "the VCF has no FORMAT/AD"
    else:
        bad, unjudged = _allele_balance(gt, ad, called, quality.het_allele_balance)
        failed |= np.where(bad, np.uint8(Check.ALLELE_BALANCE), np.uint8(0))
        missing[Check.ALLELE_BALANCE] = unjudged
        applied.add(Check.ALLELE_BALANCE)

    site_failed = np.zeros(n, dtype=np.bool_)
    filter_values: pa.Array | None = None
    if filters is None:
        not_applied[Check.FILTER] = "no FILTER values given"
    else:
        arr_f = _as_filter_array(filters)
        if len(arr_f) != n:
            raise ValueError(f"filters has {len(arr_f)} values for {n} variants")
        arr_f = pc.fill_null(arr_f, ".")
        passing = pc.is_in(arr_f, value_set=pa.array(sorted(quality.pass_filters), type=arr_f.type))
        site_failed = ~np.asarray(passing.to_numpy(zero_copy_only=False), dtype=np.bool_)
        filter_values = arr_f
        failed |= np.where(site_failed[:, None], np.uint8(Check.FILTER), np.uint8(0))
        applied.add(Check.FILTER)

    return QualityResult(failed, site_failed, filter_values, frozenset(applied), not_applied, missing)


def _called(gt: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """A genotype with every allele called (-2, a lower ploidy's padding, is no missing call).

    Looped over the (short) ploidy axis: numpy's reductions over a last axis of 2 are ~10× slower.
    """
    any_allele = gt[:, :, 0] >= 0
    no_missing = gt[:, :, 0] != -1
    for i in range(1, gt.shape[2]):
        any_allele |= gt[:, :, i] >= 0
        no_missing &= gt[:, :, i] != -1
    return np.asarray(any_allele & no_missing, dtype=np.bool_)


def _matrix(values: npt.NDArray[np.generic], n: int, s: int, name: str) -> npt.NDArray[np.float64]:
    """GQ/DP as floats with NaN for missing (htslib's -1 or NaN alike)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.shape != (n, s):
        raise ValueError(f"{name} must be variants × samples ({n} × {s}), got shape {arr.shape}")
    return np.where(arr < 0, np.nan, arr)


def _allele_balance(
    gt: npt.NDArray[np.integer],
    ad: npt.NDArray[np.integer],
    called: npt.NDArray[np.bool_],
    bounds: tuple[float, float],
) -> tuple[npt.NDArray[np.bool_], int]:
    """Heterozygous calls whose called ALT alleles' read fractions fall outside `bounds`.

    For a het a/b, each of a and b that is not REF must hold a fraction AD[x]/sum(AD) within
    [low, high] (gnomAD's rule for het-ref and het-non-ref calls; `high` is our addition).
    Only het cells are gathered, so the cost follows the number of hets, not of cells.
    """
    n, s, ploidy = gt.shape
    ad_arr = np.asarray(ad)
    if ad_arr.ndim != 3 or ad_arr.shape[:2] != (n, s):
        raise ValueError(f"AD must be variants × samples × alleles ({n} × {s} × k), got shape {ad_arr.shape}")
    bad = np.zeros(n * s, dtype=np.bool_)
    k = ad_arr.shape[2]
    if ploidy < 2 or k == 0:
        return bad.reshape(n, s), 0
    a0, a1 = gt[:, :, 0].ravel(), gt[:, :, 1].ravel()
    cells = np.flatnonzero(called.ravel() & (a0 >= 0) & (a1 >= 0) & (a0 != a1))
    g0, g1 = a0[cells].astype(np.intp), a1[cells].astype(np.intp)
    depth = ad_arr.reshape(n * s, k)[cells]
    missing_value = np.zeros(len(cells), dtype=np.bool_)
    total = np.zeros(len(cells), dtype=np.int64)
    for j in range(k):  # columns one by one: numpy's reductions over a short last axis are slow
        column = depth[:, j]
        missing_value |= column < 0
        total += np.maximum(column, 0)
    judged = ~missing_value & (total > 0) & (g0 < k) & (g1 < k)
    rows = np.arange(len(cells))
    lo, hi = bounds
    outside = np.zeros(len(cells), dtype=np.bool_)
    for allele in (g0, g1):
        reads = depth[rows, np.clip(allele, 0, k - 1)]
        outside |= (allele > 0) & ((reads < lo * total) | (reads > hi * total))
    bad[cells] = judged & outside
    return bad.reshape(n, s), int((~judged).sum())
