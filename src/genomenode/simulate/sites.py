"""Variant sites with everyone's haplotypes, one shape whatever made them (msprime, PGx panel, de novo).

Haplotypes are allele indices (0 = REF) in two slots per person, person i in columns 2i and 2i+1.
A slot a person does not have (a man's second chrX outside the PARs, any chrY slot of a woman, the
second chrY slot of a man) holds NO_ALLELE, so ploidy travels with the data rather than being
re-derived by every consumer.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import CONTIG_ORDER, Assembly, is_par
from genomenode.simulate.people import People

NO_ALLELE = -1


class Inheritance(enum.Enum):
    AUTOSOMAL = "autosomal"  # autosomes and the pseudo-autosomal regions
    X_LINKED = "x-linked"
    Y_LINKED = "y-linked"


def inheritance_at(assembly: Assembly, chrom: str, pos: int) -> Inheritance:
    if chrom == "chrY":
        return Inheritance.Y_LINKED
    if chrom == "chrX" and not is_par(assembly, chrom, pos):
        return Inheritance.X_LINKED
    return Inheritance.AUTOSOMAL


def copies(people: People, mode: Inheritance) -> npt.NDArray[np.int8]:
    """How many haplotype slots (0, 1, 2) each person really has under `mode`."""
    if mode is Inheritance.AUTOSOMAL:
        return np.full(people.size, 2, np.int8)
    if mode is Inheritance.X_LINKED:
        return np.where(people.male, 1, 2).astype(np.int8)
    return people.male.astype(np.int8)


@dataclass(frozen=True)
class SiteBlock:
    """Sites on one contig: positions, IDs, alleles and a sites × (2 · people) haplotype matrix."""

    chrom: str
    pos: npt.NDArray[np.int64]
    ids: tuple[str, ...]
    refs: tuple[str, ...]
    alts: tuple[tuple[str, ...], ...]
    haplotypes: npt.NDArray[np.int8]
    forced: bool = False  # written at every sample, 0/0 included, with every ALT (force-called PGx positions)


@dataclass(frozen=True)
class SiteTable:
    """All sites of the cohort in VCF order (canonical contig order, then position)."""

    chrom: tuple[str, ...]
    pos: npt.NDArray[np.int64]
    ids: tuple[str, ...]
    refs: tuple[str, ...]
    alts: tuple[tuple[str, ...], ...]
    haplotypes: npt.NDArray[np.int8]
    forced: npt.NDArray[np.bool_]  # per site: SiteBlock.forced

    def __len__(self) -> int:
        return len(self.pos)


def pass_to_children(
    haplotypes: npt.NDArray[np.int8], people: People, mode: Inheritance, rng: np.random.Generator
) -> None:
    """Fill each child's slots from its parents' haplotypes, in place.

    A child takes one whole parental haplotype per block: blocks are gene windows of tens of
    kilobases, where a crossover in one meiosis has a probability well below one percent.
    Fathers give sons their Y and daughters their X; mothers give either child one of two X.
    """
    h = haplotypes
    for child in people.children.tolist():
        dad, mum = int(people.father[child]), int(people.mother[child])
        from_dad, from_mum = (int(x) for x in rng.integers(0, 2, size=2))
        son = bool(people.male[child])
        if mode is Inheritance.AUTOSOMAL:
            h[:, 2 * child] = h[:, 2 * dad + from_dad]
            h[:, 2 * child + 1] = h[:, 2 * mum + from_mum]
        elif mode is Inheritance.X_LINKED:
            h[:, 2 * child] = h[:, 2 * mum + from_mum] if son else h[:, 2 * dad]
            h[:, 2 * child + 1] = NO_ALLELE if son else h[:, 2 * mum + from_mum]
        else:
            h[:, 2 * child] = h[:, 2 * dad] if son else NO_ALLELE
            h[:, 2 * child + 1] = NO_ALLELE


def merge_blocks(blocks: Sequence[SiteBlock]) -> SiteTable:
    """Concatenate and sort; where two blocks claim a position the earlier block wins."""
    blocks = [b for b in blocks if len(b.pos)]
    chrom = [b.chrom for b in blocks for _ in range(len(b.pos))]
    pos = np.concatenate([b.pos for b in blocks]) if blocks else np.zeros(0, np.int64)
    key = np.array([CONTIG_ORDER[c] for c in chrom], np.int64) * 1_000_000_000 + pos
    order = np.argsort(key, kind="stable")
    keep = order[np.concatenate([[True], key[order][1:] != key[order][:-1]])] if len(order) else order
    ids = [i for b in blocks for i in b.ids]
    refs = [r for b in blocks for r in b.refs]
    alts = [a for b in blocks for a in b.alts]
    haplotypes = np.concatenate([b.haplotypes for b in blocks]) if blocks else np.zeros((0, 0), np.int8)
    forced = np.concatenate([np.full(len(b.pos), b.forced) for b in blocks]) if blocks else np.zeros(0, np.bool_)
    return SiteTable(
        chrom=tuple(chrom[i] for i in keep),
        pos=pos[keep],
        ids=tuple(ids[i] for i in keep),
        refs=tuple(refs[i] for i in keep),
        alts=tuple(alts[i] for i in keep),
        haplotypes=haplotypes[keep],
        forced=forced[keep],
    )
