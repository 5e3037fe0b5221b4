"""Every diplotype of named alleles consistent with a sample's genotypes, scored and ranked.

PharmCAT method (NamedAlleleMatcher-101 "Scoring", DiplotypeMatcher): a named allele matches a
strand when it accepts the strand's allele at every position the sample has (null cells read as
the reference's base); a pair matches when some choice of orientation of each group of phased
calls (a phase set, or one unphased call) puts one allele on each strand; its score is the sum of
the two alleles' scores, each the number of positions its definition gives that the sample has,
less one for an IUPAC position where the sample is homozygous reference; only the top score is
called, ties kept; ties are ordered by name as PharmCAT's HaplotypeNameComparator orders them.

Vectorised: the per-allele test is an (alleles × positions) array operation, the pair test an
(alleles × alleles × heterozygous positions) one over the few alleles left after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genomenode.interpret.pgx.definitions import BoolArray, GeneDefinition, IntArray, sequence_name_key
from genomenode.interpret.pgx.sample import SampleVector


@dataclass(frozen=True)
class Diplotype:
    """`alleles`: two names (one for a haploid call), smaller first; `name` joins them with `/`.
    `strands`: for lowest-function genes, the named alleles found on each strand."""

    name: str
    alleles: tuple[str, ...]
    score: int
    strands: tuple[tuple[str, ...], ...] = ()


def make_diplotype(alleles: tuple[str, ...], score: int, strands: tuple[tuple[str, ...], ...] = ()) -> Diplotype:
    order = sorted(range(len(alleles)), key=lambda i: sequence_name_key(alleles[i]))
    names = tuple(alleles[i] for i in order)
    return Diplotype("/".join(names), names, score, tuple(strands[i] for i in order) if strands else ())


def diplotype_sort_key(d: Diplotype) -> tuple[object, ...]:
    return (-d.score, tuple(sequence_name_key(a) for a in d.alleles))


def allele_scores(definition: GeneDefinition, sample: SampleVector) -> tuple[IntArray, BoolArray]:
    """Each named allele's score on this sample, and whether it can be called at all (it cannot
    when every position its definition gives is missing: NamedAlleleMatcher-101 "Missing rs1")."""
    present = sample.present
    defined = definition.defined[:, present]
    hom_ref = (sample.strand1 == 1) & (sample.strand2 == 1)
    scores = defined.sum(axis=1).astype(np.int64) - (definition.wobble[:, present] & hom_ref[None, :]).sum(axis=1)
    return scores, np.asarray(defined.any(axis=1), np.bool_)


def consistent_diplotypes(definition: GeneDefinition, sample: SampleVector) -> list[Diplotype]:
    """Every diplotype (haploid: every single allele) the genotypes allow, best first."""
    present = sample.present
    allowed = definition.allowed[:, present]
    scores, callable_ = allele_scores(definition, sample)
    m1 = (allowed & sample.strand1[None, :]) != 0
    m2 = (allowed & sample.strand2[None, :]) != 0
    names = definition.names
    if sample.haploid:
        hits = np.flatnonzero(callable_ & m1.all(axis=1))
        found = [make_diplotype((names[i],), int(scores[i])) for i in hits]
        return sorted(found, key=diplotype_sort_key)
    het = sample.heterozygous
    candidates = np.flatnonzero(callable_ & (m1 & m2)[:, ~het].all(axis=1) & (m1 | m2)[:, het].all(axis=1))
    if candidates.size == 0:
        return []
    ok = np.ones((candidates.size, candidates.size), np.bool_)
    het_idx = np.flatnonzero(het)
    if het_idx.size:
        order = het_idx[np.argsort(sample.block[het_idx], kind="stable")]
        block_ids = sample.block[order]
        starts = np.flatnonzero(np.r_[True, block_ids[1:] != block_ids[:-1]])
        h1 = m1[candidates][:, order]
        h2 = m2[candidates][:, order]
        straight = h1[:, None, :] & h2[None, :, :]
        flipped = h2[:, None, :] & h1[None, :, :]
        either_way = np.logical_and.reduceat(straight, starts, axis=2) | np.logical_and.reduceat(
            flipped, starts, axis=2
        )
        ok = np.asarray(either_way.all(axis=2), np.bool_)
    first, second = np.nonzero(np.triu(ok))
    found = [
        make_diplotype((names[candidates[i]], names[candidates[j]]), int(scores[candidates[i]] + scores[candidates[j]]))
        for i, j in zip(first.tolist(), second.tolist(), strict=True)
    ]
    return sorted(found, key=diplotype_sort_key)


def top_scoring(found: list[Diplotype]) -> tuple[tuple[Diplotype, ...], tuple[Diplotype, ...]]:
    """(the top-scoring diplotypes, the rest), both best first."""
    if not found:
        return (), ()
    best = found[0].score
    top = tuple(d for d in found if d.score == best)
    return top, tuple(found[len(top) :])
