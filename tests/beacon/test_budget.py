"""The disclosure budget as a pure rule: costs, who pays, what is withheld, repeats free."""

from __future__ import annotations

import numpy as np

from genomenode.beacon.budget import NEGLIGIBLE, Charge, disclosure_cost, spend


def test_cost__rarer_alleles_cost_more_and_common_ones_nothing() -> None:
    cost = disclosure_cost(np.array([1, 2, 5, 40, 2000]), np.array([2000] * 5))
    assert np.all(np.diff(cost) < 0)
    assert 0.9 < cost[0] < 0.95  # a singleton among 1,000 people: −ln(1 − e^−½)
    assert cost[-1] < NEGLIGIBLE


def test_spend__carriers_pay_until_their_budget_is_gone_then_the_allele_is_withheld() -> None:
    keys = ["d:1", "d:2", "d:3"]
    outcome = spend(
        keys, np.array([0.6, 0.6, 0.6]), {k: [7] for k in keys}, spent={}, disclosed=frozenset(), budget=1.0
    )
    assert outcome.shown.tolist() == [True, False, False]  # 0.6 + 0.6 > 1.0
    assert outcome.charges == [Charge(7, "d:1", 0.6)]


def test_spend__an_allele_stays_while_any_carrier_can_pay_and_only_payers_are_charged() -> None:
    spent = {1: 1.0}  # person 1 has nothing left
    outcome = spend(["d:x"], np.array([0.5]), {"d:x": [1, 2]}, spent=spent, disclosed=frozenset(), budget=1.0)
    assert outcome.shown.tolist() == [True]
    assert outcome.charges == [Charge(2, "d:x", 0.5)]


def test_spend__a_disclosure_made_before_is_free() -> None:
    shown_before = frozenset({(1, "d:x")})
    outcome = spend(["d:x"], np.array([0.9]), {"d:x": [1]}, spent={1: 0.9}, disclosed=shown_before, budget=1.0)
    assert outcome.shown.tolist() == [True] and outcome.charges == []


def test_spend__common_alleles_and_alleles_without_known_carriers_pass_untouched() -> None:
    outcome = spend(
        ["d:a", "d:b"], np.array([NEGLIGIBLE / 2, 0.9]), {"d:a": [1]}, spent={}, disclosed=frozenset(), budget=0.1
    )
    assert outcome.shown.tolist() == [True, True] and outcome.charges == []
