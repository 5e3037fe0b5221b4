"""A synthetic national cohort: what five regional centres would send, with nothing real in it.

Haplotypes come from msprime (coalescent with recombination under an island model of four
populations), one simulation per real GENCODE gene window, so linkage, the site-frequency spectrum
(mostly rare variants) and population differentiation are those of real data. On top:
pharmacogenomic variants at their real GRCh38 positions (from PharmCAT's position list, never
typed here) drawn under Hardy–Weinberg with population-specific frequencies; trios whose children
inherit one parental haplotype per locus (plus the odd de novo); males haploid on chrX outside the
PARs and on chrY; each centre's VCF holds only its own people and only sites where one of them
carries an ALT (variant-only, as regional pipelines emit them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msprime
import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import Assembly, contig_lengths, is_par
from genomenode.ingest.vcf import read_sites, write_vcf
from genomenode.simulate.records import SiteGenotypes, format_records
from genomenode.store.genes import find_gene

Progress = Callable[[str, int, int | None], None]

CENTRES = ("stockholm", "vastra-gotaland", "skane", "uppsala", "norrland")
POPULATIONS = ("NFE", "FIN", "AFR", "EAS")
POP_SHARE = (0.66, 0.14, 0.10, 0.10)
# Centres differ in who they serve: rows are centres, columns populations (relative weights).
CENTRE_MIX = np.array([[5, 1, 3, 3], [5, 1, 2, 2], [6, 1, 1, 1], [5, 1, 1, 1], [4, 4, 0.3, 0.3]])
GENES = (
    "CYP2C19",
    "CYP2C9",
    "CYP2D6",
    "DPYD",
    "TPMT",
    "SLCO1B1",
    "VKORC1",
    "NUDT15",
    "UGT1A1",
    "CFTR",
    "BRCA1",
    "BRCA2",
    "SCN1A",
    "FBN1",
    "PKD1",
    "MYH7",
    "KCNQ1",
    "APOL1",
    "LDLR",
    "HBB",
    "MECP2",
    "DMD",
    "SHOX",
    "UTY",
)
WINDOW = 40_000
# rsID → allele frequency per population (NFE, FIN, AFR, EAS): the order of magnitude of gnomAD's.
PGX_FREQUENCIES = {
    "rs4244285": (0.15, 0.19, 0.17, 0.31),  # CYP2C19*2
    "rs12248560": (0.22, 0.21, 0.24, 0.02),  # CYP2C19*17
    "rs1799853": (0.13, 0.10, 0.02, 0.001),  # CYP2C9*2
    "rs1057910": (0.07, 0.06, 0.01, 0.04),  # CYP2C9*3
    "rs3918290": (0.008, 0.009, 0.001, 0.001),  # DPYD*2A
    "rs1142345": (0.04, 0.03, 0.07, 0.02),  # TPMT*3C
    "rs1800460": (0.035, 0.03, 0.005, 0.001),  # TPMT*3B
    "rs9923231": (0.39, 0.45, 0.10, 0.88),  # VKORC1 -1639G>A
    "rs4149056": (0.16, 0.20, 0.02, 0.12),  # SLCO1B1 c.521T>C
    "rs116855232": (0.002, 0.001, 0.001, 0.10),  # NUDT15*3
    "rs3892097": (0.19, 0.13, 0.06, 0.002),  # CYP2D6*4
}


@dataclass(frozen=True)
class CohortFiles:
    directory: Path
    vcfs: dict[str, Path]
    sample_sheet: Path
    pedigree: Path
    individuals: int


@dataclass
class _People:
    pop: npt.NDArray[np.int64]
    male: npt.NDArray[np.bool_]
    centre: npt.NDArray[np.int64]
    father: npt.NDArray[np.int64]  # -1 for founders
    mother: npt.NDArray[np.int64]


def default_pgx_positions() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "reference" / "pgx" / "positions" / "pharmcat_positions.vcf"
        if candidate.exists():
            return candidate
    return None


def generate_cohort(
    out_dir: Path,
    *,
    individuals: int = 600,
    seed: int = 7,
    assembly: Assembly = Assembly.GRCh38,
    pgx_positions: Path | None = None,
    progress: Progress | None = None,
) -> CohortFiles:
    """Write one VCF per centre, a sample sheet and a pedigree into `out_dir`; same seed, same files."""
    report = progress or (lambda stage, done, total: None)
    rng = np.random.default_rng(seed)
    people = _people(individuals, rng)
    sites: list[SiteGenotypes] = []
    for i, symbol in enumerate(GENES):
        report("simulating haplotypes", i, len(GENES))
        sites += _gene_sites(symbol, assembly, people, seed + i, rng)
    sites += _pgx_sites(pgx_positions or default_pgx_positions(), assembly, people, rng)
    report("simulating haplotypes", len(GENES), len(GENES))
    sites = _dedupe_positions(sites)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = [f"GN-{CENTRES[c][:3].upper()}-{i:06d}" for i, c in enumerate(people.centre)]
    vcfs: dict[str, Path] = {}
    for c, centre in enumerate(CENTRES):
        report("writing centre VCFs", c, len(CENTRES))
        members = np.flatnonzero(people.centre == c)
        header, records = format_records(sites, members, [ids[m] for m in members], people.male, assembly, rng)
        vcfs[centre] = out_dir / f"{centre}.vcf.gz"
        write_vcf(vcfs[centre], header, records)
    report("writing centre VCFs", len(CENTRES), len(CENTRES))
    sheet = out_dir / "samples.tsv"
    sheet.write_text(_sample_sheet(people, ids, rng))
    pedigree = out_dir / "families.ped"
    pedigree.write_text(_pedigree(people, ids))
    return CohortFiles(out_dir, vcfs, sheet, pedigree, individuals)


def _people(n: int, rng: np.random.Generator) -> _People:
    pop = rng.choice(len(POPULATIONS), size=n, p=POP_SHARE)
    male = rng.random(n) < 0.5
    weights = CENTRE_MIX[:, pop].T
    centre = np.array([rng.choice(len(CENTRES), p=w / w.sum()) for w in weights])
    father = np.full(n, -1)
    mother = np.full(n, -1)
    n_trios = max(1, n // 30)  # ~10% of people are in a trio
    for t in range(n_trios):
        f, m, child = 3 * t, 3 * t + 1, 3 * t + 2
        if child >= n:
            break
        male[f], male[m] = True, False
        pop[m] = pop[child] = pop[f]
        centre[m] = centre[child] = centre[f]
        father[child], mother[child] = f, m
    return _People(pop, male, centre, father, mother)


def _founder_haplotypes(ts: Any, people: _People) -> npt.NDArray[np.int8]:
    """sites × 2n haplotypes for everyone: founders from the tree sequence, children inherited."""
    genotypes = ts.genotype_matrix()
    founders = np.flatnonzero(people.father < 0)
    haps = np.zeros((genotypes.shape[0], 2 * len(people.pop)), np.int8)
    # the simulation has one sample set per population, in individual order within each population
    order = np.concatenate([founders[people.pop[founders] == p] for p in range(len(POPULATIONS))])
    for k, person in enumerate(order):
        haps[:, 2 * person : 2 * person + 2] = genotypes[:, 2 * k : 2 * k + 2]
    return haps


def _inherit(haps: npt.NDArray[np.int8], people: _People, rng: np.random.Generator) -> None:
    for child in np.flatnonzero(people.father >= 0):
        for j, parent in enumerate((people.father[child], people.mother[child])):
            haps[:, 2 * child + j] = haps[:, 2 * parent + rng.integers(0, 2)]
        if rng.random() < 0.3 and haps.shape[0]:  # a de novo variant at a site the parents lack
            site = rng.integers(0, haps.shape[0])
            haps[site, 2 * child] = 1


def _gene_sites(
    symbol: str, assembly: Assembly, people: _People, seed: int, rng: np.random.Generator
) -> list[SiteGenotypes]:
    gene = find_gene(assembly, symbol)
    start = gene.start
    length = min(WINDOW, gene.end - gene.start + 1)
    founders = people.father < 0
    samples = {POPULATIONS[p]: int((people.pop[founders] == p).sum()) for p in range(len(POPULATIONS))}
    demography = msprime.Demography.island_model([10_000] * len(POPULATIONS), migration_rate=2e-4)
    for i, name in enumerate(POPULATIONS):
        demography.populations[i].name = name
    ts = msprime.sim_ancestry(
        samples={k: v for k, v in samples.items() if v},
        demography=demography,
        sequence_length=length,
        recombination_rate=1e-8,
        random_seed=seed,
    )
    ts = msprime.sim_mutations(ts, rate=2e-8, random_seed=seed)
    haps = _founder_haplotypes(ts, people)
    _inherit(haps, people, rng)
    out: list[SiteGenotypes] = []
    for k, site in enumerate(ts.sites()):
        alleles = [site.ancestral_state, *sorted({m.derived_state for m in site.mutations} - {site.ancestral_state})]
        if len(alleles) < 2:
            continue
        pos = start + int(site.position)
        row = np.minimum(haps[k], len(alleles) - 1)
        ref, alts = alleles[0], alleles[1:]
        if rng.random() < 0.04:  # a small indel in place of a SNV, anchored on REF
            alts = [ref + "".join(rng.choice(list("ACGT"), size=int(rng.integers(1, 4))))]
            row = np.minimum(row, 1)
        out.append(SiteGenotypes(gene.chrom, pos, ".", ref, alts, row.astype(np.int8)))
    return out


def _pgx_sites(path: Path | None, assembly: Assembly, people: _People, rng: np.random.Generator) -> list[SiteGenotypes]:
    if path is None or assembly is not Assembly.GRCh38:
        return []
    wanted = {rsid: (chrom, pos, ref, alts) for chrom, pos, rsid, ref, alts in read_sites(path)}
    out: list[SiteGenotypes] = []
    for rsid, freqs in PGX_FREQUENCIES.items():
        if rsid not in wanted:
            continue
        chrom, pos, ref, alts = wanted[rsid]
        p = np.asarray(freqs)[people.pop]
        haps = (rng.random((2, len(p))) < p).astype(np.int8).T.reshape(-1)
        haps = haps[None, :]
        for child in np.flatnonzero(people.father >= 0):
            haps[0, 2 * child] = haps[0, 2 * people.father[child] + rng.integers(0, 2)]
            haps[0, 2 * child + 1] = haps[0, 2 * people.mother[child] + rng.integers(0, 2)]
        out.append(SiteGenotypes(chrom, pos, rsid, ref, alts[:1], haps[0]))
    return out


def _dedupe_positions(sites: list[SiteGenotypes]) -> list[SiteGenotypes]:
    """One record per position (a PGx site wins over a simulated one), sorted like a VCF."""
    by_pos: dict[tuple[str, int], SiteGenotypes] = {}
    for s in sites:
        if (s.chrom, s.pos) not in by_pos or s.id != ".":
            by_pos[(s.chrom, s.pos)] = s
    lengths = list(contig_lengths(Assembly.GRCh38))
    return sorted(by_pos.values(), key=lambda s: (lengths.index(s.chrom), s.pos))


def _sample_sheet(people: _People, ids: list[str], rng: np.random.Generator) -> str:
    consents = ["GRU", "HMB", "HMB;IRB", "DS:MONDO:0005148", "GRU;NPU", "HMB;GSO", "NRES"]
    weights = np.array([0.35, 0.25, 0.1, 0.05, 0.1, 0.05, 0.1])
    lines = ["sample_id\tsubject_id\tsex\tpopulation\tcentre\tconsent"]
    for i, sample in enumerate(ids):
        year = int(rng.integers(1940, 2020))
        month, day, serial = int(rng.integers(1, 13)), int(rng.integers(1, 29)), int(rng.integers(0, 10_000))
        subject = f"{year}{month:02d}{day:02d}-{serial:04d}"  # personnummer-shaped, synthetic
        lines.append(
            "\t".join(
                [
                    sample,
                    subject,
                    "male" if people.male[i] else "female",
                    POPULATIONS[people.pop[i]],
                    CENTRES[people.centre[i]],
                    consents[int(rng.choice(len(consents), p=weights))],
                ]
            )
        )
    return "\n".join(lines) + "\n"


def _pedigree(people: _People, ids: list[str]) -> str:
    in_trio = np.zeros(len(ids), np.bool_)
    for child in np.flatnonzero(people.father >= 0):
        in_trio[[child, people.father[child], people.mother[child]]] = True
    lines = []
    for i, sample in enumerate(ids):
        family = f"FAM{i // 3:05d}" if in_trio[i] else f"IND{i:06d}"
        father = ids[people.father[i]] if people.father[i] >= 0 else "0"
        mother = ids[people.mother[i]] if people.mother[i] >= 0 else "0"
        lines.append("\t".join([family, sample, father, mother, "1" if people.male[i] else "2", "-9"]))
    return "\n".join(lines) + "\n"


def is_haploid(assembly: Assembly, chrom: str, pos: int, male: bool) -> bool:
    """Males carry one copy of X outside the PARs, and of Y."""
    return male and (chrom == "chrY" or (chrom == "chrX" and not is_par(assembly, chrom, pos)))
