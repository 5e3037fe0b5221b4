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


# -- allele counts per call group, and the variant_stats cells they add up to ---------------------
@dataclass(frozen=True)
class GroupCounts:
    """One call group's counts at one allele: the unit stats.py sums into variant_stats cells."""

    dataset: str
    population: str
    sex: str
    centre: str
    an: int
    ac: int
    hom: int
    hemi: int


STRATA = ("population", "sex", "centre")


def stats_cells(alleles: dict[tuple[str, int, str, str], list[GroupCounts]]) -> list[dict[str, object]]:
    """The variant_stats rows stats.py writes for these groups: nation '*' and each dataset × 'all'
    and each stratum value, summed, leaving out cells with an = ac = 0."""
    rows: list[dict[str, object]] = []
    for (chrom, pos, ref, alt), groups in alleles.items():
        cells: dict[tuple[str, str, str], list[int]] = {}
        for g in groups:
            for scope in ("*", g.dataset):
                keys = [("all", ""), *((s, getattr(g, s)) for s in STRATA)]
                for stratum, value in keys:
                    total = cells.setdefault((scope, stratum, value), [0, 0, 0, 0])
                    for i, n in enumerate((g.ac, g.an, g.hom, g.hemi)):
                        total[i] += n
        for (scope, stratum, value), (ac, an, hom, hemi) in sorted(cells.items()):
            if an > 0 or ac > 0:
                rows.append(
                    {"chrom": chrom, "pos": pos, "ref": ref, "alt": alt, "scope": scope, "stratum": stratum,
                     "stratum_value": value, "ac": ac, "an": an, "hom": hom, "hemi": hemi}
                )  # fmt: skip
    return rows


@st.composite
def group_counts(
    draw: st.DrawFn, *, max_datasets: int = 4, max_populations: int = 4, max_count: int = 12
) -> list[GroupCounts]:
    """The call groups of one allele: 2-4 datasets, 2-4 populations, sexes and centres, small counts."""
    datasets = [f"d{i}" for i in range(draw(st.integers(2, max_datasets)))]
    populations = [f"p{i}" for i in range(draw(st.integers(2, max_populations)))]
    sexes = ["female", "male", ""]
    centres = [f"c{i}" for i in range(draw(st.integers(1, 4)))]
    groups = []
    for dataset in datasets:
        for _ in range(draw(st.integers(1, 5))):
            ac = draw(st.integers(0, max_count))
            hom = draw(st.integers(0, ac // 2))
            hemi = draw(st.integers(0, ac - 2 * hom))
            groups.append(
                GroupCounts(
                    dataset,
                    draw(st.sampled_from(populations)),
                    draw(st.sampled_from(sexes)),
                    draw(st.sampled_from(centres)),
                    an=ac + draw(st.integers(1, 30)),
                    ac=ac,
                    hom=hom,
                    hemi=hemi,
                )
            )
    return groups
