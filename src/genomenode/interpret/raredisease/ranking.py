"""Rank a case's genes: the best variant (or compound-het pair) a mode of inheritance allows,
times how well the gene explains the patient's phenotype.

One score, on purpose simple enough to explain in a sentence: **score = variant × phenotype**.
`variant` is consequence pathogenicity × frequency score (scores.py) of the gene's best variant
under a mode the family's genotypes allow (× 0.9 when the mode is untold rather than confirmed,
the mean of the two for a compound het, × 0.85 when the parents do not phase it); `phenotype` is
the gene's phenotype score relative to the best-matching gene for this patient (phenotype.py),
floored at 0.05 so a gene without phenotype evidence is pushed down, not removed. Without HPO
terms the phenotype factor is 1. Exomiser combines its scores with a logistic model trained on
solved cases; a product keeps each candidate's score readable from its reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from genomenode.interpret.raredisease.inheritance import ALL_MODES, InheritanceResult, Mode
from genomenode.interpret.raredisease.scores import RankingOptions, frequency_score

FloatArray = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

MODE_NAMES: Mapping[Mode, str] = {
    Mode.DE_NOVO: "de novo",
    Mode.AUTOSOMAL_DOMINANT: "autosomal dominant",
    Mode.AUTOSOMAL_RECESSIVE_HOM: "autosomal recessive (homozygous)",
    Mode.COMPOUND_HET: "compound heterozygous",
    Mode.X_LINKED_RECESSIVE: "X-linked recessive",
    Mode.MITOCHONDRIAL: "mitochondrial",
}


@dataclass(frozen=True)
class VariantEvidence:
    """Per variant (arrays of one length): what the ranking weighs."""

    gene: npt.NDArray[np.object_]  # symbol, "" for none
    pathogenicity: FloatArray  # 0..1, scores.consequence_pathogenicity
    max_af: FloatArray  # highest population frequency known (the family excluded); NaN for none
    quality_ok: Bool  # the calls the modes rest on passed the quality filters

    def __len__(self) -> int:
        return len(self.gene)


@dataclass(frozen=True)
class Candidate:
    """A gene, the variant(s) that put it here, and why it ranks where it does."""

    rank: int
    gene: str
    rows: tuple[int, ...]  # variant rows: one, or the two of a compound het
    mode: Mode
    confirmed: bool  # the mode fits the family's data (False: untold, e.g. a parent not sequenced)
    phased: bool | None  # compound het: phased in trans by the parents (None for other modes)
    variant_score: float
    phenotype_score: float
    score: float


def rank_genes(
    evidence: VariantEvidence,
    inheritance: InheritanceResult,
    *,
    phenotype: Mapping[str, float] | None,
    options: RankingOptions | None = None,
) -> list[Candidate]:
    """The candidate genes, best first (ties broken by the variant score, then the gene name).

    `phenotype`: gene → 0..1 phenotype score (None: the case has no HPO terms). Family-level modes
    are used: every genotyped affected member shares the variant, no unaffected one shows it.
    """
    opts = options or RankingOptions()
    calls = inheritance.family
    base = evidence.pathogenicity * frequency_score(evidence.max_af)
    usable = (evidence.pathogenicity >= opts.min_pathogenicity) & (evidence.gene != "")
    if not opts.keep_failed_quality:
        usable &= evidence.quality_ok
    af = np.nan_to_num(evidence.max_af, nan=0.0)
    best: dict[str, Candidate] = {}

    def offer(candidate: Candidate) -> None:
        held = best.get(candidate.gene)
        if held is None or candidate.variant_score > held.variant_score:
            best[candidate.gene] = candidate

    for mode in ALL_MODES:
        allowed = usable & (af <= opts.cap(mode))
        if mode is Mode.COMPOUND_HET:
            _offer_pairs(evidence, inheritance, allowed & calls.possible(mode), base, opts, offer)
            continue
        fits, untold = calls.has(mode) & allowed, calls.is_untold(mode) & allowed
        scores = np.where(fits, base, np.where(untold, base * opts.untold_factor, -1.0))
        for row in _best_per_gene(evidence.gene, scores):
            offer(_candidate(evidence, (row,), mode, bool(fits[row]), None, float(scores[row])))
    top = max(phenotype.values(), default=0.0) if phenotype else 0.0
    ranked = []
    for c in best.values():
        pheno = 1.0 if phenotype is None else _relative(phenotype.get(c.gene, 0.0), top, opts.phenotype_floor)
        ranked.append((c, pheno, c.variant_score * pheno))
    ranked.sort(key=lambda t: (-t[2], -t[0].variant_score, t[0].gene))
    return [
        Candidate(i + 1, c.gene, c.rows, c.mode, c.confirmed, c.phased, c.variant_score, pheno, score)
        for i, (c, pheno, score) in enumerate(ranked[: opts.max_genes])
    ]


def _relative(score: float, top: float, floor: float) -> float:
    if top <= 0:
        return 1.0  # nothing matched better than chance: the phenotype tells the genes apart by nothing
    return max(floor, min(1.0, score / top))


def _best_per_gene(genes: npt.NDArray[np.object_], scores: FloatArray) -> list[int]:
    """The row of each gene's highest score (> 0), vectorised over the rows."""
    rows = np.flatnonzero(scores > 0)
    if not rows.size:
        return []
    order = rows[np.lexsort((-scores[rows], genes[rows].astype(str)))]
    sorted_genes = genes[order]
    first = np.r_[True, sorted_genes[1:] != sorted_genes[:-1]]
    return [int(r) for r in order[first]]


def _offer_pairs(
    evidence: VariantEvidence,
    inheritance: InheritanceResult,
    among: Bool,
    base: FloatArray,
    opts: RankingOptions,
    offer: Callable[[Candidate], None],
) -> None:
    pairs = inheritance.compound_het_pairs(level="family", among=among)
    if not len(pairs):
        return
    scores = (base[pairs.first] + base[pairs.second]) / 2 * np.where(pairs.phased, 1.0, opts.unphased_factor)
    genes = evidence.gene[pairs.first]
    for k in _best_per_gene(genes, scores):
        a, b = int(pairs.first[k]), int(pairs.second[k])
        phased = bool(pairs.phased[k])
        offer(_candidate(evidence, (a, b), Mode.COMPOUND_HET, phased, phased, float(scores[k])))


def _candidate(
    evidence: VariantEvidence, rows: tuple[int, ...], mode: Mode, confirmed: bool, phased: bool | None, score: float
) -> Candidate:
    return Candidate(0, str(evidence.gene[rows[0]]), rows, mode, confirmed, phased, score, 1.0, score)
