"""Hypothesis strategies: small random call sets that exercise the counting rules."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st


@dataclass(frozen=True)
class CallSet:
    """A joint call set: sites (chrom, pos, ref, alts) × samples' genotypes (allele indices)."""

    samples: list[str]
    sites: list[tuple[str, int, str, list[str]]]
    genotypes: list[list[tuple[int, ...]]]  # per site, per sample
    phased: list[list[bool]]


@st.composite
def call_sets(draw: st.DrawFn, *, max_samples: int = 8, max_sites: int = 12) -> CallSet:
    n = draw(st.integers(2, max_samples))
    samples = [f"S{i}" for i in range(n)]
    males = [draw(st.booleans()) for _ in range(n)]
    positions = sorted(draw(st.sets(st.integers(1000, 90_000), min_size=1, max_size=max_sites)))
    sites, genotypes, phased = [], [], []
    for i, pos in enumerate(positions):
        chrom = "chrX" if i % 4 == 3 else "chr1"
        ref = draw(st.sampled_from(["A", "C", "G", "T", "AT", "CAG"]))
        pool = [a for a in ["A", "C", "G", "T", ref + "T", ref[0]] if a != ref]
        alts = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        allele = st.integers(0, len(alts))
        row = []
        for male in males:
            haploid = chrom == "chrX" and male  # 5,000,000+ on chrX is outside the PARs
            row.append((draw(allele),) if haploid else (draw(allele), draw(allele)))
        sites.append((chrom, pos + (5_000_000 if chrom == "chrX" else 0), ref, alts))
        genotypes.append(row)
        phased.append([draw(st.booleans()) for _ in range(n)])
    sites_sorted = sorted(zip(sites, genotypes, phased, strict=True), key=lambda t: (t[0][0] != "chr1", t[0][1]))
    return CallSet(samples, [s[0] for s in sites_sorted], [s[1] for s in sites_sorted], [s[2] for s in sites_sorted])
