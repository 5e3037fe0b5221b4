"""Coalescent haplotypes over real gene windows: one msprime simulation per window.

Simulating each window on its own keeps linkage within a gene and independence between genes, as
in a real genome, at a cost of milliseconds. Sites land at the window's real coordinates. With no
reference FASTA at hand, each window gets a seeded pseudo-reference sequence; the reference
genome's allele at every site comes from one extra simulated haplotype (as GRCh38 is itself one
person's haplotype), so REF is sometimes the rarer allele, as in real data. A few percent of sites
are rewritten as small insertions or deletions, left-aligned and anchored on the base before them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import msprime
import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import CONTIG_ORDER, Assembly
from genomenode.simulate.demography import MUTATION_RATE, POPULATIONS, RECOMBINATION_RATE, human_demography
from genomenode.simulate.people import People
from genomenode.simulate.sites import NO_ALLELE, Inheritance, SiteBlock, inheritance_at, pass_to_children
from genomenode.store.genes import find_gene

# Pharmacogenes, rare-disease genes, chrX genes (SHOX in PAR1) and a chrY gene. Coordinates come
# from the installed GENCODE gene models, never from this file.
GENES: tuple[str, ...] = (
    *("CYP2C19", "CYP2C9", "CYP2D6", "CYP4F2", "DPYD", "TPMT", "SLCO1B1", "VKORC1", "NUDT15", "UGT1A1"),
    *("CFTR", "BRCA1", "BRCA2", "SCN1A", "FBN1", "PKD1", "MYH7", "KCNQ1", "LDLR", "HBB", "APOL1"),
    *("SHOX", "DMD", "MECP2", "G6PD", "F8", "UTY"),
)
FLANK = 2_000  # promoter and 3' flank around each gene
MAX_WINDOW = 50_000  # long genes (DMD is 2.2 Mb) get this much from their 5' end
INDEL_SHARE = 0.05
MAX_ALTS = 3
BASES = "ACGT"
BASE_FREQUENCIES = (0.295, 0.205, 0.205, 0.295)  # ~41% GC, the human genome's average
REFERENCE_POPULATION = "NFE"
_DELETION_LENGTHS = (1, 1, 1, 1, 1, 2, 2, 3, 4, 6)
_INSERTION_LENGTHS = (1, 1, 1, 1, 2, 2, 3, 5)
_DE_NOVO_CLEARANCE = 10  # bp; longer than any deletion, so a de novo never falls inside one
_SIZE_SCALE = {Inheritance.AUTOSOMAL: 1.0, Inheritance.X_LINKED: 0.75, Inheritance.Y_LINKED: 0.5}


@dataclass(frozen=True)
class Window:
    """A simulated stretch of a gene, 1-based inclusive."""

    gene: str
    chrom: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def gene_windows(assembly: Assembly, genes: Sequence[str] = GENES) -> list[Window]:
    """Gene ± FLANK, long genes cut to MAX_WINDOW at their 5' end, sorted and non-overlapping."""
    windows = []
    for symbol in genes:
        gene = find_gene(assembly, symbol)
        lo, hi = max(1, gene.start - FLANK), gene.end + FLANK
        if hi - lo + 1 > MAX_WINDOW:
            lo, hi = (hi - MAX_WINDOW + 1, hi) if gene.strand == "-" else (lo, lo + MAX_WINDOW - 1)
        windows.append(Window(gene.symbol, gene.chrom, lo, hi))
    windows.sort(key=lambda w: (CONTIG_ORDER[w.chrom], w.start))
    out: list[Window] = []
    for w in windows:
        if out and out[-1].chrom == w.chrom and w.start <= out[-1].end:
            w = replace(w, start=out[-1].end + 1)  # neighbours such as CYP2C19 and CYP2C9
        if w.end >= w.start:
            out.append(w)
    return out


def simulate_window(
    window: Window,
    people: People,
    *,
    assembly: Assembly,
    seed: int,
    rng: np.random.Generator,
    reserved: npt.NDArray[np.int64],
    de_novo_in: Sequence[int] = (),
) -> SiteBlock:
    """The window's variant sites for everyone: founders from msprime, children by inheritance.

    Positions in `reserved` (known PGx sites, written separately) get no simulated site and no
    deletion across them; each child in `de_novo_in` gets one new heterozygous SNV of its own.
    """
    mode = inheritance_at(assembly, window.chrom, window.start)
    ploidy = 1 if mode is Inheritance.Y_LINKED else 2
    founders = np.flatnonzero(people.father < 0)
    if mode is Inheritance.Y_LINKED:
        founders = founders[people.male[founders]]
    founders = founders[np.argsort(people.population[founders], kind="stable")]
    sample_sets = [
        msprime.SampleSet(int(count), population=name, ploidy=ploidy)
        for p, name in enumerate(POPULATIONS)
        if (count := (people.population[founders] == p).sum())
    ]
    sample_sets.append(msprime.SampleSet(1, population=REFERENCE_POPULATION, ploidy=1))  # the reference genome
    ts = msprime.sim_ancestry(
        samples=sample_sets,
        demography=human_demography(size_scale=_SIZE_SCALE[mode]),
        sequence_length=window.length,
        recombination_rate=0.0 if mode is Inheritance.Y_LINKED else RECOMBINATION_RATE,
        ploidy=ploidy,
        random_seed=seed,
    )
    ts = msprime.sim_mutations(ts, rate=MUTATION_RATE, model=msprime.HKY(kappa=4.0), random_seed=seed)
    variants = [(int(v.site.position), v.alleles, v.genotypes.astype(np.int8)) for v in ts.variants()]
    genotypes = np.array([g for *_, g in variants], np.int8).reshape(len(variants), ts.num_samples)
    haplotypes = np.full((len(variants), 2 * people.size), NO_ALLELE, np.int8)
    k = len(founders)
    for j in range(ploidy):
        haplotypes[:, 2 * founders + j] = genotypes[:, j : ploidy * k : ploidy]
    if mode is Inheritance.X_LINKED:  # a man's second simulated X is not his
        haplotypes[:, 2 * founders[people.male[founders]] + 1] = NO_ALLELE
    pass_to_children(haplotypes, people, mode, rng)

    reference_sequence = rng.choice(4, size=window.length, p=BASE_FREQUENCIES).astype(np.int8)
    offsets, refs, alts, rows = _recode(variants, genotypes[:, -1], haplotypes, reserved - window.start)
    for offset, ref in zip(offsets, refs, strict=True):
        reference_sequence[offset] = BASES.index(ref)
    occupied = np.union1d(offsets, reserved - window.start)
    for i in range(len(offsets)):
        if len(alts[i]) == 1 and rng.random() < INDEL_SHARE:
            refs[i], alts[i] = _indel(int(offsets[i]), reference_sequence, occupied, rng)
    for child in de_novo_in:
        offset, ref, alt, row = _de_novo(child, people, reference_sequence, occupied, rng)
        occupied = np.union1d(occupied, [offset])
        offsets, refs, alts = [*offsets, offset], [*refs, ref], [*alts, alt]
        rows = np.vstack([rows, row[None, :]])
    order = np.argsort(offsets, kind="stable")
    return SiteBlock(
        chrom=window.chrom,
        pos=window.start + np.asarray(offsets, np.int64)[order],
        ids=(".",) * len(order),
        refs=tuple(refs[i] for i in order),
        alts=tuple(alts[i] for i in order),
        haplotypes=rows[order],
    )


def _recode(
    variants: list[tuple[int, tuple[str, ...], npt.NDArray[np.int8]]],
    reference: npt.NDArray[np.int8],
    haplotypes: npt.NDArray[np.int8],
    reserved: npt.NDArray[np.int64],
) -> tuple[list[int], list[str], list[tuple[str, ...]], npt.NDArray[np.int8]]:
    """Re-index alleles so the reference haplotype's allele is 0 and ALTs are those the cohort carries.

    Sites where nobody in the cohort differs from the reference, or at reserved positions, go.
    """
    n_sites = len(variants)
    width = max((len(a) for _, a, _ in variants), default=1)
    sites = np.broadcast_to(np.arange(n_sites)[:, None], haplotypes.shape)
    real = haplotypes >= 0
    counts = np.bincount((sites * width + haplotypes)[real], minlength=n_sites * width).reshape(n_sites, width)
    # One lookup row per site; column `width` (reached by index -1) keeps NO_ALLELE.
    table = np.zeros((n_sites, width + 1), np.int8)
    table[:, width] = NO_ALLELE
    kept, offsets, refs, alts = [], [], [], []
    taken = set(reserved.tolist())
    for s, (offset, alleles, _) in enumerate(variants):
        ref = int(reference[s])
        carried = [a for a in range(len(alleles)) if a != ref and counts[s, a] > 0][:MAX_ALTS]
        if not carried or offset in taken:
            continue
        table[s, carried] = np.arange(1, len(carried) + 1)
        kept.append(s)
        offsets.append(offset)
        refs.append(alleles[ref])
        alts.append(tuple(alleles[a] for a in carried))
    idx = np.asarray(kept, np.int64)
    rows = table[idx[:, None], haplotypes[idx].astype(np.int64)]
    return offsets, refs, alts, rows


def _indel(
    offset: int, sequence: npt.NDArray[np.int8], occupied: npt.NDArray[np.int64], rng: np.random.Generator
) -> tuple[str, tuple[str, ...]]:
    """REF/ALT of a deletion after `offset` when it fits before the next site, else of an insertion."""
    anchor = int(sequence[offset])
    length = int(rng.choice(_DELETION_LENGTHS))
    following = occupied[np.searchsorted(occupied, offset, side="right") :]
    fits = offset + length < len(sequence) and (not len(following) or following[0] > offset + length)
    # A deletion whose last base equals the anchor could slide left: not left-aligned, so not used.
    if rng.random() < 0.55 and fits and int(sequence[offset + length]) != anchor:
        deleted = "".join(BASES[b] for b in sequence[offset : offset + length + 1])
        return deleted, (BASES[anchor],)
    inserted = [int(b) for b in rng.choice(4, size=int(rng.choice(_INSERTION_LENGTHS)))]
    if inserted[-1] == anchor:  # same reason: an insertion ending in the anchor base slides left
        inserted[-1] = (anchor + 1 + int(rng.integers(0, 3))) % 4
    return BASES[anchor], (BASES[anchor] + "".join(BASES[b] for b in inserted),)


def _de_novo(
    child: int,
    people: People,
    sequence: npt.NDArray[np.int8],
    occupied: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[int, str, tuple[str, ...], npt.NDArray[np.int8]]:
    """A new SNV on the child's paternal haplotype, clear of other sites and of any deletion's span."""
    while True:
        offset = int(rng.integers(_DE_NOVO_CLEARANCE, len(sequence) - _DE_NOVO_CLEARANCE))
        near = np.searchsorted(occupied, [offset - _DE_NOVO_CLEARANCE, offset + _DE_NOVO_CLEARANCE + 1])
        if near[0] == near[1]:
            break
    ref = int(sequence[offset])
    alt = ref ^ 2 if rng.random() < 0.67 else (ref + 1 + 2 * int(rng.integers(0, 2))) % 4  # ~2:1 transitions
    row = np.zeros(2 * people.size, np.int8)
    row[2 * child] = 1
    return offset, BASES[ref], (BASES[alt],), row
