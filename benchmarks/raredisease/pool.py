"""Founder haplotypes over the exome from msprime, simulated once and cached; and the WGS trio's founders.

The package's cohort simulator (`genomenode.simulate`) covers 27 gene windows, not an exome, so the
benchmark runs the same model itself: `simulate.demography.human_demography` (five populations,
out of Africa, recent growth), its mutation rate, and a reference genome that is one more
simulated haplotype (so REF is sometimes the rarer allele). One msprime run per chromosome over
its exome targets laid end to end (`genome.TargetSpace`), with a recombination map that puts, at
each junction between two targets, the crossover probability of the intron or intergenic gap
between them: linkage within and between nearby genes is as in a real chromosome.

POOL_PEOPLE people (mostly NFE, as the package's centres are) are simulated; each case's parents
are two of them, and their gnomAD-like allele frequencies come from everyone else in the pool
(`Pool.frequencies`), so a family's private variant is absent from "gnomAD" as it would be. The
haplotypes are stored bit-packed per haplotype under benchmarks/.work/raredisease/pool/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msprime
import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import Assembly
from genomenode.simulate.demography import MUTATION_RATE, POPULATIONS, RECOMBINATION_RATE, human_demography

from .genome import CHROMS, TargetSpace, site_alleles, target_space

POOL_PEOPLE = {"NFE": 420, "FIN": 50, "AFR": 45, "SAS": 45, "EAS": 40}
POOL_FORMAT = "1"
_X_SIZE_SCALE = 0.75  # three X chromosomes per two people (as simulate.loci does)

Int = npt.NDArray[np.int64]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ChromPool:
    """One chromosome: target-space offsets of the sites, ALT counts per population, haplotypes."""

    offsets: Int
    counts: npt.NDArray[np.int32]  # sites × populations: ALT copies in the whole pool
    packed: npt.NDArray[np.uint8]  # haplotypes × ceil(sites / 8), bit-packed along sites

    @property
    def n_sites(self) -> int:
        return len(self.offsets)

    def haplotypes(self, rows: list[int]) -> npt.NDArray[np.int8]:
        """Alleles (0/1) of the haplotypes `rows` (person p has rows 2p and 2p + 1), as rows × sites."""
        return np.unpackbits(self.packed[rows], axis=1, count=self.n_sites).astype(np.int8)


@dataclass(frozen=True)
class AssemblySites:
    """A chromosome's pool sites laid on one assembly: which of them fall in its targets, and their alleles."""

    index: Int  # into the ChromPool's sites
    pos: Int
    refs: list[str]
    alts: list[str]


class Pool:
    def __init__(self, directory: Path) -> None:
        meta = json.loads((directory / "pool.json").read_text())
        self.directory = directory
        self.population = np.asarray(meta["population"], np.int64)  # per person, index into POPULATIONS
        self.seconds = float(meta["seconds"])
        self._chroms: dict[str, ChromPool] = {}
        self._sites: dict[tuple[Assembly, str], AssemblySites] = {}

    @property
    def size(self) -> int:
        return len(self.population)

    def chrom(self, chrom: str) -> ChromPool:
        if chrom not in self._chroms:
            with np.load(self.directory / f"{chrom}.npz") as data:
                self._chroms[chrom] = ChromPool(data["offsets"], data["counts"], data["packed"])
        return self._chroms[chrom]

    def sites(self, assembly: Assembly, chrom: str) -> AssemblySites:
        key = (assembly, chrom)
        if key not in self._sites:
            pos, valid = target_space(assembly, chrom).to_genome(self.chrom(chrom).offsets)
            index = np.flatnonzero(valid)
            pos = pos[index]
            # Two target-space offsets never share a genomic position (targets are disjoint).
            refs, alts = site_alleles(assembly, chrom, pos)
            self._sites[key] = AssemblySites(index, pos, refs, alts)
        return self._sites[key]

    def frequencies(
        self, chrom: str, index: Int, family: npt.NDArray[np.int8], founders: tuple[int, int]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """gnomAD-like AF and popmax AF at pool sites `index`, from everyone but the family's founders.

        `family` is the founders' four haplotypes at those sites (4 × sites).
        """
        counts = self.chrom(chrom).counts[index].astype(np.float64)
        people = np.bincount(self.population, minlength=len(POPULATIONS)).astype(np.float64)
        for k, person in enumerate(founders):
            p = int(self.population[person])
            counts[:, p] -= family[2 * k] + family[2 * k + 1]
            people[p] -= 1
        # chrX is counted as if everyone had two copies: close enough for a frequency filter.
        af = counts.sum(axis=1) / (2 * people.sum())
        max_af = (counts / (2 * np.maximum(people, 1))).max(axis=1)
        return af, max_af


def load_or_build(directory: Path, *, seed: int, progress: Progress) -> Pool:
    """The pool under `directory`, simulating what is missing (about 10 minutes on 2 cores, once)."""
    directory.mkdir(parents=True, exist_ok=True)
    meta_path = directory / "pool.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("format") == POOL_FORMAT and meta.get("seed") == seed and meta.get("people") == POOL_PEOPLE:
            return Pool(directory)
        for old in directory.glob("*.npz"):
            old.unlink()
        meta_path.unlink()
    population = np.repeat(np.arange(len(POOL_PEOPLE)), list(POOL_PEOPLE.values()))
    names = list(POOL_PEOPLE)
    assert names == list(POPULATIONS), "POOL_PEOPLE lists the demography's populations in its order"
    began = time.perf_counter()
    for i, chrom in enumerate(CHROMS):
        out = directory / f"{chrom}.npz"
        if out.exists():
            continue
        t = time.perf_counter()
        pool = _simulate_chromosome(chrom, population, seed=seed * 100 + i + 1)
        tmp = out.with_name(out.stem + ".tmp.npz")
        np.savez(tmp, offsets=pool.offsets, counts=pool.counts, packed=pool.packed)
        tmp.replace(out)
        progress(f"pool {chrom}: {pool.n_sites:,} sites in {time.perf_counter() - t:.0f} s")
    meta = {
        "format": POOL_FORMAT,
        "seed": seed,
        "people": POOL_PEOPLE,
        "population": population.tolist(),
        "seconds": round(time.perf_counter() - began, 1),
    }
    meta_path.write_text(json.dumps(meta))
    return Pool(directory)


def _recombination_map(space: TargetSpace, length: int) -> msprime.RateMap:
    """Base rate within targets; at each junction, one base carrying the crossover chance of the gap."""
    cumulative = np.cumsum(space.lengths)
    gaps = space.starts[1:] - space.ends[:-1] - 1
    junction = cumulative[:-1]
    edges = np.concatenate([[0], np.ravel(np.column_stack([junction - 1, junction])), [length]])
    rates = np.empty(len(edges) - 1)
    rates[0::2] = RECOMBINATION_RATE
    rates[1::2] = np.minimum(0.5, gaps * RECOMBINATION_RATE)
    return msprime.RateMap(position=edges, rate=rates)


def _simulate_chromosome(chrom: str, population: Int, *, seed: int) -> ChromPool:
    """msprime over the chromosome's exome targets (the longer of the two assemblies' target spaces)."""
    grch38 = target_space(Assembly.GRCh38, chrom)
    length = max(target_space(a, chrom).size for a in Assembly)
    samples = [
        msprime.SampleSet(int((population == p).sum()), population=name, ploidy=2) for p, name in enumerate(POPULATIONS)
    ]
    samples.append(msprime.SampleSet(1, population="NFE", ploidy=1))  # the reference genome
    ts = msprime.sim_ancestry(
        samples=samples,
        demography=human_demography(size_scale=_X_SIZE_SCALE if chrom == "chrX" else 1.0),
        sequence_length=length,
        recombination_rate=_recombination_map(grch38, length),
        random_seed=seed,
    )
    ts = msprime.sim_mutations(ts, rate=MUTATION_RATE, model=msprime.BinaryMutationModel(), random_seed=seed)
    genotypes = ts.genotype_matrix()  # sites × (2 · people + 1)
    alleles = genotypes[:, :-1] ^ genotypes[:, -1:]  # 1 where a haplotype differs from the reference
    keep = alleles.any(axis=1)
    alleles = alleles[keep].astype(np.uint8)
    offsets = ts.tables.sites.position.astype(np.int64)[keep]
    per_person = alleles[:, 0::2] + alleles[:, 1::2]
    counts = np.stack([per_person[:, population == p].sum(axis=1) for p in range(len(POPULATIONS))], axis=1)
    return ChromPool(offsets, counts.astype(np.int32), np.packbits(alleles.T, axis=1))


# -- the whole-genome trio's founders ------------------------------------------------------------
#
# A genome through the five-population model takes about an hour on two busy cores, too long for an
# input whose only job is to time the analyser. The WGS founders therefore come from WGS_TILES
# stretches of WGS_TILE bases simulated once under a constant population size (as make_vcf.py
# does), laid end to end along every chromosome; each copy of a stretch takes another two of its
# WGS_PEOPLE people as the parents, and the other eight are the frequency panel. The mutation rate
# is set so a genome carries ~4.5 M variants, as a real one does; WGS_PRIVATE private alleles per
# parent (absent from any panel) stand for the rare and novel variation a real genome adds.

WGS_TILE = 50_000_000
WGS_TILES = 4
WGS_PEOPLE = 10
WGS_POPULATION_SIZE = 10_000
WGS_MUTATION_RATE = 2.5e-8  # with N = 10,000: ~70,000 variant sites per person per 47 Mb, ~4.6 M a genome
WGS_PRIVATE = 25_000  # private heterozygous alleles per parent, genome-wide
GENOME_LENGTH = 3.1e9


@dataclass(frozen=True)
class Tile:
    offsets: Int  # 0-based within the tile
    alleles: npt.NDArray[np.int8]  # sites × (2 · WGS_PEOPLE)


def wgs_tiles(seed: int) -> list[Tile]:
    tiles = []
    for k in range(WGS_TILES):
        ts = msprime.sim_ancestry(
            samples=[msprime.SampleSet(WGS_PEOPLE, ploidy=2), msprime.SampleSet(1, ploidy=1)],
            population_size=WGS_POPULATION_SIZE,
            sequence_length=WGS_TILE,
            recombination_rate=RECOMBINATION_RATE,
            random_seed=seed + k,
        )
        ts = msprime.sim_mutations(
            ts, rate=WGS_MUTATION_RATE, model=msprime.BinaryMutationModel(), random_seed=seed + k
        )
        genotypes = ts.genotype_matrix()
        alleles = (genotypes[:, :-1] ^ genotypes[:, -1:]).astype(np.int8)
        keep = alleles.any(axis=1)
        tiles.append(Tile(ts.tables.sites.position.astype(np.int64)[keep], alleles[keep]))
    return tiles


def wgs_founders(
    assembly: Assembly, chrom: str, chrom_length: int, tiles: list[Tile], rng: np.random.Generator
) -> tuple[Int, list[str], list[str], npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    """Two parents over a whole chromosome: positions, REF, ALT, their 4 × sites haplotypes, and the
    AF among the tile's other people (NaN where none of them carries it)."""
    positions, haplotypes, frequencies = [], [], []
    for k, start in enumerate(range(0, chrom_length, WGS_TILE)):
        tile = tiles[(CHROMS.index(chrom) + k) % len(tiles)]
        pair = rng.choice(WGS_PEOPLE, size=2, replace=False)
        panel = np.setdiff1d(np.arange(WGS_PEOPLE), pair)
        pos = tile.offsets + start + 1
        inside = pos <= chrom_length
        rows = [2 * pair[0], 2 * pair[0] + 1, 2 * pair[1], 2 * pair[1] + 1]
        founders = tile.alleles[inside][:, rows]
        carried = founders.any(axis=1)
        panel_alleles = tile.alleles[inside][:, np.ravel(np.column_stack([2 * panel, 2 * panel + 1]))]
        positions.append(pos[inside][carried])
        haplotypes.append(founders[carried])
        frequencies.append(panel_alleles[carried].mean(axis=1))
    n_private = rng.poisson(WGS_PRIVATE * chrom_length / GENOME_LENGTH, size=2)
    for parent, n in enumerate(n_private.tolist()):
        private = np.zeros((n, 4), np.int8)
        private[np.arange(n), 2 * parent + rng.integers(0, 2, size=n)] = 1
        positions.append(rng.integers(1, chrom_length + 1, size=n))
        haplotypes.append(private)
        frequencies.append(np.zeros(n))
    pos = np.concatenate(positions)
    pos, first = np.unique(pos, return_index=True)  # sorted; a private allele on a taken position is dropped
    founders = np.concatenate(haplotypes)[first]
    af = np.concatenate(frequencies)[first]
    af[af == 0] = np.nan
    refs, alts = site_alleles(assembly, chrom, pos, indel_share=0.10)
    return pos, refs, alts, np.ascontiguousarray(founders.T), af
