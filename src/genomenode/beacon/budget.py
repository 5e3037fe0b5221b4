"""A per-caller, per-individual disclosure budget against Beacon membership attacks.

Shringarpure & Bustamante (2015) showed that a beacon answering "is allele X here?" lets someone
holding a person's genome test whether that person is in the beacon: each "yes" for an allele the
person carries adds to a likelihood-ratio statistic, most for rare alleles. Raisaro et al. (2017)
answer with a budget per individual: every "yes" that reveals an allele costs each carrier the
information it gives the attacker, and a carrier whose budget for that caller is spent no longer
counts towards that caller's answers. Repeating a disclosure is free (the caller learnt it
already), so identical or overlapping queries cost nothing more.

The cost of revealing, among N people in a dataset, an allele of frequency f to be present:
the log-likelihood ratio a "yes" gives an attacker whose target carries it,
    cost = −ln(1 − D),   D = (1 − f)^(2N)   (the chance that none of the N carries it).
The defender's f is leave-one-out, f = max(ac − 1, ½) / an: what is known without the target, so a
singleton costs ≈ 0.93 nats in a large dataset, an allele seen 5 times ≈ 0.018, a common one ~0.
Only costs above `NEGLIGIBLE` are accounted, so common alleles never touch the ledger (an attacker
would need ~10^6 of them to learn one nat).

Pure functions over Arrow/numpy; the ledger (what each caller has been shown) lives in the catalog.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

NEGLIGIBLE = 1e-6  # nats: an allele seen more than ~14 times in its dataset costs less than this

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def disclosure_cost(ac: Ints, an: Ints) -> Floats:
    """Nats an attacker gains about each carrier when told the allele is present (see module)."""
    ac = np.asarray(ac, dtype=np.float64)
    an = np.asarray(an, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.maximum(ac - 1.0, 0.5) / np.maximum(an, 1.0)
        absent = np.exp(an * np.log1p(-np.minimum(f, 1.0 - 1e-12)))  # (1 − f)^(2N), an = 2N
        cost = -np.log1p(-np.minimum(absent, 1.0 - 1e-12))
    return np.where(an > 0, cost, 0.0)


@dataclass(frozen=True)
class Charge:
    subject: int
    allele: str  # the allele's key in the ledger: "<dataset>:<chrom>-<pos>-<ref>-<alt>"
    cost: float


@dataclass(frozen=True)
class BudgetOutcome:
    shown: Bools  # per allele: still present for this caller
    charges: list[Charge]


def spend(
    allele_keys: list[str],
    costs: Floats,
    carriers: Mapping[str, list[int]],
    *,
    spent: Mapping[int, float],
    disclosed: frozenset[tuple[int, str]],
    budget: float,
) -> BudgetOutcome:
    """Which of an answer's alleles this caller may be told are present, and what that costs.

    `allele_keys` in the order the answer lists them, `costs` per allele, `carriers` per allele key
    (subject ids of the people carrying it), `spent` per person so far for this caller, and
    `disclosed` the (person, allele) pairs this caller was shown before (free again).
    An allele stays when at least one carrier can still pay (or was disclosed before); only
    those carriers are charged. A carrier who cannot pay is left out, and an allele whose
    carriers all are left out is not shown.
    """
    shown = np.ones(len(allele_keys), np.bool_)
    charges: list[Charge] = []
    running = dict(spent)
    for i, (key, cost) in enumerate(zip(allele_keys, costs, strict=True)):
        people = carriers.get(key, [])
        if cost < NEGLIGIBLE or not people:
            continue  # a common allele, or one whose carriers the store cannot name (site-only files)
        payers = []
        for subject in people:
            if (subject, key) in disclosed:
                payers.append((subject, 0.0))
            elif running.get(subject, 0.0) + cost <= budget:
                payers.append((subject, float(cost)))
        if not payers:
            shown[i] = False
            continue
        for subject, paid in payers:
            if paid:
                running[subject] = running.get(subject, 0.0) + paid
                charges.append(Charge(subject, key, paid))
    return BudgetOutcome(shown, charges)


class Ledger(Protocol):
    """What each caller has been shown about whom: the budget's memory."""

    def state(
        self, actor: str, subjects: Collection[int], alleles: Collection[str]
    ) -> tuple[dict[int, float], frozenset[tuple[int, str]]]:
        """The spending so far of each of `subjects`, and which (person, allele) of `alleles` the
        actor was shown before."""
        ...

    def record(self, actor: str, charges: Sequence[Charge]) -> None: ...
