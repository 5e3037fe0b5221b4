"""Generate the benchmark input: a joint-called, bgzipped, tabix-indexed VCF of N people × M sites.

Haplotypes come from msprime (coalescent with recombination, so the site-frequency spectrum and
linkage are realistic: most sites rare), placed on GRCh38 chr22 from 36 Mb so that gene queries
(APOL1, CYP2D6, …) fall inside it. FORMAT is GT:DP:GQ:AD like a real joint call set, because FORMAT
fields, not GT, dominate store size. Written as text and compressed with Debian's bgzip.

`simulate_cohort` and `write_vcf(..., samples=, alleles=)` also serve benchmarks/scale.py: one
msprime cohort under the package's out-of-Africa demography, cut into several centres' VCFs that
must agree on each site's REF and ALT.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import msprime
import numpy as np
import tskit

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.simulate.demography import MUTATION_RATE, human_demography

OFFSET = 36_000_000


def simulate(individuals: int, sites: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (1-based on chr22) and a sites × haplotypes 0/1 matrix."""
    # θ per bp = 4·Ne·μ = 5e-4; expected segregating sites ≈ θ·L·Σ1/i, so size L for ~1.2× the target
    harmonic = float(np.sum(1.0 / np.arange(1, 2 * individuals)))
    length = int(1.2 * sites / (5e-4 * harmonic))
    ts = msprime.sim_ancestry(
        samples=individuals,
        ploidy=2,
        population_size=10_000,
        sequence_length=length,
        recombination_rate=1e-8,
        random_seed=seed,
    )
    ts = msprime.sim_mutations(ts, rate=1.25e-8, random_seed=seed, model=msprime.BinaryMutationModel())
    positions = ts.tables.sites.position.astype(np.int64)[:sites] + OFFSET + 1
    genotypes = ts.genotype_matrix()[:sites]
    keep = np.concatenate([[True], np.diff(positions) > 0])  # one record per position
    return positions[keep], np.minimum(genotypes[keep], 1).astype(np.int8)


def simulate_cohort(
    samples: Sequence[tuple[str, int]], *, length: int, seed: int, recombination_rate: float = 1e-8
) -> tskit.TreeSequence:
    """Diploid people of the package's five populations (`genomenode.simulate.demography`: out of
    Africa with recent explosive growth, so most sites are rare), `samples` as (population, count)
    in sample order, over `length` bp; binary mutations at the human rate 1.29e-8 per bp."""
    ts = msprime.sim_ancestry(
        samples=[msprime.SampleSet(n, population=pop, ploidy=2) for pop, n in samples if n],
        demography=human_demography(),
        sequence_length=length,
        recombination_rate=recombination_rate,
        random_seed=seed,
    )
    return msprime.sim_mutations(ts, rate=MUTATION_RATE, random_seed=seed, model=msprime.BinaryMutationModel())


def random_alleles(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """REF and ALT base indices (into ACGT) for n sites, ALT never REF; the draw write_vcf makes."""
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, 4, size=n)
    return refs, (refs + rng.integers(1, 4, size=n)) % 4


def write_vcf(
    path: Path,
    positions: np.ndarray,
    haplotypes: np.ndarray,
    seed: int,
    *,
    samples: Sequence[str] | None = None,
    alleles: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """`samples`: the #CHROM line's names (default S00000, S00001, …); `alleles`: each site's REF and
    ALT indices into ACGT (default drawn from `seed`, as `random_alleles` draws them)."""
    rng = np.random.default_rng(seed)
    n = haplotypes.shape[1] // 2
    bases = np.array(list("ACGT"))
    if alleles is None:
        refs = rng.integers(0, 4, size=len(positions))
        alts = (refs + rng.integers(1, 4, size=len(positions))) % 4
    else:
        refs, alts = alleles
    names = list(samples) if samples is not None else [f"S{i:05d}" for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} sample names for {n} people")
    # Token table: one FORMAT string per (genotype, depth); picking by index keeps the loop per line.
    depths = np.arange(8, 61)
    tokens = []
    for gt in range(3):
        for dp in depths:
            gq = min(99, dp * 3) if gt != 1 else min(99, dp * 2)
            ad = {0: f"{dp},0", 1: f"{dp // 2},{dp - dp // 2}", 2: f"0,{dp}"}[gt]
            tokens.append(f"{('0/0', '0/1', '1/1')[gt]}:{dp}:{gq}:{ad}")
    table = np.array(tokens, dtype=object)
    lengths = contig_lengths(Assembly.GRCh38)
    header = [
        "##fileformat=VCFv4.2",
        *[f"##contig=<ID={c},length={ln}>" for c, ln in lengths.items()],
        "##reference=GRCh38",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(names),
    ]
    bgzip = subprocess.Popen(["bgzip", "-@", "2", "-c"], stdin=subprocess.PIPE, stdout=path.open("wb"))
    assert bgzip.stdin is not None
    bgzip.stdin.write(("\n".join(header) + "\n").encode())
    for i, pos in enumerate(positions):
        gt = haplotypes[i, 0::2] + haplotypes[i, 1::2]
        dp = rng.integers(0, len(depths), size=n)
        fields = table[gt * len(depths) + dp]
        line = f"chr22\t{pos}\t.\t{bases[refs[i]]}\t{bases[alts[i]]}\t50\tPASS\t.\tGT:DP:GQ:AD\t" + "\t".join(fields)
        bgzip.stdin.write(line.encode() + b"\n")
    bgzip.stdin.close()
    if bgzip.wait() != 0:
        sys.exit("bgzip failed")
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--individuals", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    positions, haplotypes = simulate(args.individuals, args.sites, args.seed)
    write_vcf(args.out, positions, haplotypes, args.seed)
    print(f"{args.out}: {len(positions)} sites × {haplotypes.shape[1] // 2} people")


if __name__ == "__main__":
    main()
