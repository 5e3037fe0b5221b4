"""Genotype quality filters: GQ, DP, het allele balance from AD, FILTER; what was applied and why not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from genomenode.errors import CaseError
from genomenode.interpret.raredisease.quality import Check, QualityFilter, apply_quality

MISSING = -1


def _gt(*calls: str) -> npt.NDArray[np.int16]:
    """One variant, one sample per call: "0/1", "1/1", "./.", "1" (haploid)."""
    rows = []
    for call in calls:
        alleles = [MISSING if a == "." else int(a) for a in call.replace("|", "/").split("/")]
        rows.append([*alleles, -2][:2])
    return np.array([rows], dtype=np.int16)


def test_defaults__are_gnomads_adj_thresholds_with_a_symmetric_upper_balance() -> None:
    q = QualityFilter()
    assert (q.min_gq, q.min_dp, q.het_allele_balance) == (20, 10, (0.2, 0.8))
    assert q.pass_filters == {"PASS", "."}
    assert q.describe() == "GQ ≥ 20, DP ≥ 10, het allele balance 0.2–0.8, FILTER ./PASS"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_gq": -1}, "min_gq is -1"),
        ({"min_dp": 2.5}, "min_dp is 2.5"),
        ({"min_gq": True}, "min_gq is True"),
        ({"het_allele_balance": (0.8, 0.2)}, "0 ≤ low ≤ high ≤ 1"),
        ({"het_allele_balance": (-0.1, 0.9)}, "0 ≤ low ≤ high ≤ 1"),
        ({"pass_filters": frozenset()}, "pass_filters is empty"),
    ],
)
def test_settings__impossible_thresholds_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CaseError, match=message):
        QualityFilter(**kwargs)  # type: ignore[arg-type]


def test_gq_and_dp__low_values_fail_missing_values_are_counted_not_failed() -> None:
    gt = _gt("0/1", "0/0", "1/1", "./.")
    gq = np.array([[19, 20, MISSING, 5]])
    dp = np.array([[30, 9, 10, 1]])
    result = apply_quality(QualityFilter(), gt, gq=gq, dp=dp)
    assert result.genotype_failed.tolist() == [[Check.GQ, Check.DP, 0, 0]]
    assert result.missing == {Check.GQ: 1, Check.DP: 0}  # the no-call's GQ is not counted: it is no call
    assert result.applied == {Check.GQ, Check.DP}


def test_gq__floats_with_nan_are_read_as_missing() -> None:
    result = apply_quality(QualityFilter(), _gt("0/1", "0/1"), gq=np.array([[np.nan, 12.0]]))
    assert result.genotype_failed.tolist() == [[0, Check.GQ]]
    assert result.missing[Check.GQ] == 1


def test_allele_balance__het_ref_outside_02_08_fails() -> None:
    gt = _gt("0/1", "0/1", "0/1", "0/1")
    ad = np.array([[[10, 1], [5, 5], [1, 9], [2, 8]]])
    result = apply_quality(QualityFilter(), gt, ad=ad)
    assert result.genotype_failed.tolist() == [[Check.ALLELE_BALANCE, 0, Check.ALLELE_BALANCE, 0]]


def test_allele_balance__only_hets_are_judged() -> None:
    gt = _gt("1/1", "0/0", "1", "./.")
    ad = np.array([[[9, 1], [1, 9], [10, 0], [5, 5]]])
    result = apply_quality(QualityFilter(), gt, ad=ad)
    assert result.genotype_failed.tolist() == [[0, 0, 0, 0]]


def test_allele_balance__het_non_ref_needs_both_alts_within_bounds() -> None:
    gt = _gt("1/2", "1/2")
    ad = np.array([[[0, 5, 5], [0, 9, 1]]])
    result = apply_quality(QualityFilter(), gt, ad=ad)
    assert result.genotype_failed.tolist() == [[0, Check.ALLELE_BALANCE]]


def test_allele_balance__missing_or_zero_depth_is_counted_not_failed() -> None:
    gt = _gt("0/1", "0/1", "0/2")
    ad = np.array([[[MISSING, 4, 0], [0, 0, 0], [3, 3, MISSING]]])
    result = apply_quality(QualityFilter(), gt, ad=ad)
    assert result.genotype_failed.tolist() == [[0, 0, 0]]
    assert result.missing[Check.ALLELE_BALANCE] == 3


def test_missing_format_fields__those_checks_are_not_applied_and_the_result_says_why() -> None:
    result = apply_quality(QualityFilter(), _gt("0/1"), gq=np.array([[10]]))
    assert result.applied == {Check.GQ}
    assert result.not_applied == {
        Check.DP: "the VCF has no FORMAT/DP",
        Check.ALLELE_BALANCE: "the VCF has no FORMAT/AD",
        Check.FILTER: "no FILTER values given",
    }


def test_switched_off_checks__are_reported_as_switched_off() -> None:
    q = QualityFilter(min_gq=None, het_allele_balance=None)
    result = apply_quality(q, _gt("0/1"), gq=np.array([[0]]), ad=np.array([[[9, 1]]]))
    assert result.genotype_failed.tolist() == [[0]]
    assert "switched off" in result.not_applied[Check.GQ]
    assert "switched off" in result.not_applied[Check.ALLELE_BALANCE]


def test_filter__pass_and_dot_pass_others_fail_every_sample() -> None:
    gt = np.zeros((4, 2, 2), dtype=np.int16)
    result = apply_quality(QualityFilter(), gt, filters=["PASS", ".", "LowQual", None])  # type: ignore[list-item]
    assert result.site_failed.tolist() == [False, False, True, False]
    assert result.genotype_failed[2].tolist() == [Check.FILTER, Check.FILTER]


def test_filter__a_site_may_pass_under_other_filter_names() -> None:
    q = QualityFilter(pass_filters=frozenset({"PASS", ".", "VQSRTrancheSNP99.90to100.00"}))
    result = apply_quality(
        q, np.zeros((2, 1, 2), dtype=np.int16), filters=pa.array(["VQSRTrancheSNP99.90to100.00", "LowQual"])
    )
    assert result.site_failed.tolist() == [False, True]


def test_variant_failed__ors_the_chosen_samples_and_the_site() -> None:
    gt = np.array([[[0, 1], [0, 0], [0, 0]], [[0, 1], [0, 0], [0, 0]]], dtype=np.int16)
    gq = np.array([[50, 5, 50], [50, 50, 50]])
    result = apply_quality(QualityFilter(), gt, gq=gq, filters=["PASS", "LowQual"])
    assert result.variant_failed().tolist() == [Check.GQ, Check.FILTER]
    assert result.variant_failed([0, 2]).tolist() == [0, Check.FILTER]
    assert result.variant_failed([]).tolist() == [0, Check.FILTER]


def test_reasons__name_the_filter_the_threshold_and_the_samples() -> None:
    gt = np.array([[[0, 1], [0, 0]], [[0, 1], [0, 0]], [[0, 1], [0, 1]]], dtype=np.int16)
    gq = np.array([[50, 5], [50, 50], [10, 10]])
    ad = np.array([[[5, 5], [9, 0]], [[5, 5], [9, 0]], [[9, 1], [5, 5]]])
    q = QualityFilter()
    result = apply_quality(q, gt, gq=gq, ad=ad, filters=["PASS", "LowQual;SnpCluster", "."])
    reasons = result.reasons(quality=q, sample_names=["proband", "mother"])
    assert reasons.tolist() == [
        "GQ < 20 (mother)",
        "FILTER=LowQual;SnpCluster",
        "GQ < 20 (proband, mother); het allele balance outside 0.2–0.8 (proband)",
    ]
    assert result.reasons([0]).tolist() == [
        "",
        "FILTER=LowQual;SnpCluster",
        "GQ failed (sample 1); allele balance failed (sample 1)",
    ]


def test_shapes__arrays_that_do_not_fit_the_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="GQ must be variants × samples"):
        apply_quality(QualityFilter(), _gt("0/1"), gq=np.array([[1, 2]]))
    with pytest.raises(ValueError, match="AD must be variants × samples × alleles"):
        apply_quality(QualityFilter(), _gt("0/1"), ad=np.array([[1, 2]]))
    with pytest.raises(ValueError, match="filters has 2 values for 1 variants"):
        apply_quality(QualityFilter(), _gt("0/1"), filters=["PASS", "PASS"])


def _reference(gt: list[list[int]], gq: int, dp: int, ad: list[int], q: QualityFilter) -> int:
    """The checks one genotype fails, written call by call."""
    if any(a == -1 for a in gt) or all(a < 0 for a in gt):
        return 0
    failed = 0
    if q.min_gq is not None and gq >= 0 and gq < q.min_gq:
        failed |= Check.GQ
    if q.min_dp is not None and dp >= 0 and dp < q.min_dp:
        failed |= Check.DP
    a, b = gt
    if q.het_allele_balance and a >= 0 and b >= 0 and a != b and all(x >= 0 for x in ad) and sum(ad) > 0:
        lo, hi = q.het_allele_balance
        for allele in (a, b):
            if allele > 0 and not lo * sum(ad) <= ad[allele] <= hi * sum(ad):
                failed |= Check.ALLELE_BALANCE
    return failed


@given(
    gt=hnp.arrays(np.int16, (6, 3, 2), elements=st.integers(-1, 2)),
    gq=hnp.arrays(np.int32, (6, 3), elements=st.integers(-1, 60)),
    dp=hnp.arrays(np.int32, (6, 3), elements=st.integers(-1, 40)),
    ad=hnp.arrays(np.int32, (6, 3, 3), elements=st.integers(-1, 20)),
)
@settings(max_examples=150, deadline=None)
def test_apply_quality__matches_a_call_by_call_reading(
    gt: npt.NDArray[np.int16], gq: npt.NDArray[np.int32], dp: npt.NDArray[np.int32], ad: npt.NDArray[np.int32]
) -> None:
    q = QualityFilter()
    result = apply_quality(q, gt, gq=gq, dp=dp, ad=ad)
    expected = [
        [_reference(gt[v, s].tolist(), int(gq[v, s]), int(dp[v, s]), ad[v, s].tolist(), q) for s in range(3)]
        for v in range(6)
    ]
    assert result.genotype_failed.tolist() == expected


def test_raw_htslib_arrays__sentinels_are_missing_values() -> None:
    missing, vector_end = np.iinfo(np.int32).min, np.iinfo(np.int32).min + 1
    gt = _gt("0/1", "0/1")
    gq = np.array([[missing, 30]], dtype=np.int32)
    ad = np.array([[[9, vector_end], [5, 5]]], dtype=np.int32)
    result = apply_quality(QualityFilter(), gt, gq=gq, ad=ad)
    assert result.genotype_failed.tolist() == [[0, 0]]
    assert result.missing == {Check.GQ: 1, Check.ALLELE_BALANCE: 1}
