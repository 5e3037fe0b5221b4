"""Well-known pharmacogenomic variants at their real positions, with population-specific frequencies.

Positions, REF and ALT alleles come from PharmCAT's GRCh38 position list (read, never typed here);
this module only names which ALT of which rsID makes each star allele, and how common that star
allele is in each population (rounded values of the magnitude gnomAD and PharmGKB report; synthetic data,
not for clinical use). Star alleles of one gene are drawn as whole haplotypes, so a haplotype
carries at most one of them: TPMT*3A carries both of its SNVs together, and CYP2C19*2 and *17 never
share a chromosome. Each haplotype is drawn independently per population, i.e. under Hardy–Weinberg.

Every position of the list is *force-called*, as a regional centre does when it prepares VCFs for
PharmCAT: each centre's file has a record there with all the list's ALTs, 0/0 included, so every
demo sample gets a complete PGx call (a variant-only file would leave most positions missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import Assembly
from genomenode.ingest.vcf_writer import Site, read_sites
from genomenode.simulate.people import People
from genomenode.simulate.sites import NO_ALLELE, SiteBlock, copies, inheritance_at, pass_to_children


@dataclass(frozen=True)
class StarAllele:
    gene: str
    name: str
    variants: tuple[tuple[str, str], ...]  # (rsID, ALT)
    frequency: tuple[float, float, float, float, float]  # per POPULATIONS: NFE, FIN, AFR, SAS, EAS


STAR_ALLELES: tuple[StarAllele, ...] = (
    StarAllele("CYP2C19", "*2", (("rs4244285", "A"),), (0.15, 0.19, 0.17, 0.33, 0.30)),
    StarAllele("CYP2C19", "*3", (("rs4986893", "A"),), (0.0002, 0.0001, 0.002, 0.01, 0.07)),
    StarAllele("CYP2C19", "*17", (("rs12248560", "T"),), (0.21, 0.22, 0.23, 0.15, 0.015)),
    StarAllele("CYP2C9", "*2", (("rs1799853", "T"),), (0.125, 0.085, 0.02, 0.035, 0.001)),
    StarAllele("CYP2C9", "*3", (("rs1057910", "C"),), (0.07, 0.06, 0.012, 0.11, 0.035)),
    StarAllele("CYP2D6", "*4", (("rs3892097", "T"), ("rs1065852", "A")), (0.19, 0.16, 0.06, 0.10, 0.003)),
    StarAllele("CYP2D6", "*10", (("rs1065852", "A"),), (0.02, 0.02, 0.04, 0.07, 0.42)),
    StarAllele("CYP4F2", "*3", (("rs2108622", "T"),), (0.29, 0.30, 0.08, 0.40, 0.21)),
    StarAllele("DPYD", "*2A", (("rs3918290", "T"),), (0.008, 0.011, 0.001, 0.003, 0.0005)),
    StarAllele("DPYD", "c.2846A>T", (("rs67376798", "A"),), (0.004, 0.003, 0.001, 0.001, 0.0001)),
    StarAllele("TPMT", "*3A", (("rs1800460", "T"), ("rs1142345", "C")), (0.034, 0.03, 0.004, 0.01, 0.0005)),
    StarAllele("TPMT", "*3C", (("rs1142345", "C"),), (0.003, 0.003, 0.06, 0.005, 0.017)),
    StarAllele("VKORC1", "-1639A", (("rs9923231", "T"),), (0.39, 0.42, 0.06, 0.14, 0.89)),
    # SLCO1B1 c.521T>C mostly travels with c.388A>G (*15); alone it is *5; c.388G alone is *37
    StarAllele("SLCO1B1", "*15", (("rs4149056", "C"), ("rs2306283", "G")), (0.14, 0.18, 0.02, 0.04, 0.11)),
    StarAllele("SLCO1B1", "*5", (("rs4149056", "C"),), (0.02, 0.02, 0.002, 0.005, 0.01)),
    StarAllele("SLCO1B1", "*37", (("rs2306283", "G"),), (0.26, 0.25, 0.75, 0.45, 0.62)),
    StarAllele("NUDT15", "*3", (("rs116855232", "T"),), (0.004, 0.002, 0.001, 0.07, 0.095)),
    # UGT1A1*28 (TA7 of the TA repeat) almost always carries *80: PharmCAT names the pair *80+*28
    StarAllele("UGT1A1", "*80+*28", (("rs887829", "T"), ("rs3064744", "CATAT")), (0.30, 0.31, 0.36, 0.35, 0.12)),
    StarAllele("UGT1A1", "*80", (("rs887829", "T"),), (0.01, 0.01, 0.01, 0.05, 0.01)),
    StarAllele("UGT1A1", "*37", (("rs3064744", "CATATAT"),), (0.0005, 0.0005, 0.05, 0.001, 0.0001)),
    StarAllele("CYP3A5", "*3", (("rs776746", "C"),), (0.93, 0.95, 0.32, 0.67, 0.71)),
    StarAllele("G6PD", "A-", (("rs1050828", "T"), ("rs1050829", "C")), (0.0002, 0.0001, 0.11, 0.001, 0.0001)),
    StarAllele("G6PD", "A", (("rs1050829", "C"),), (0.001, 0.0005, 0.20, 0.005, 0.0001)),
)


def default_pgx_positions() -> Path:
    """`<repo>/../shared/reference/pgx/positions/pharmcat_positions.vcf`, next to the checkout."""
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "reference" / "pgx" / "positions" / "pharmcat_positions.vcf"


def pgx_blocks(path: Path, people: People, assembly: Assembly, rng: np.random.Generator) -> list[SiteBlock]:
    """One block per gene of STAR_ALLELES whose variants the position list has with the expected ALT,
    then one block per contig of every other listed position (everyone reference there); all forced.

    A star allele any of whose variants is missing from the list (or lists another ALT) is left out
    rather than placed somewhere invented. The list is GRCh38, so other assemblies get no PGx sites.
    """
    if assembly is not Assembly.GRCh38:
        return []
    sites = read_sites(path)
    by_id: dict[str, Site] = {}
    for site in sites:
        if site.id != ".":
            by_id.setdefault(site.id, site)
    usable = [
        star for star in STAR_ALLELES if all(rsid in by_id and alt in by_id[rsid].alts for rsid, alt in star.variants)
    ]
    blocks = []
    for gene in dict.fromkeys(star.gene for star in usable):
        stars = [star for star in usable if star.gene == gene]
        blocks.append(_gene_block(stars, by_id, people, assembly, rng))
    taken = {(b.chrom, int(p)) for b in blocks for p in b.pos}
    rest: dict[str, list[Site]] = {}
    for site in sites:
        if (site.chrom, site.pos) not in taken:
            taken.add((site.chrom, site.pos))
            rest.setdefault(site.chrom, []).append(site)
    for chrom, listed in rest.items():
        blocks.append(_reference_block(chrom, listed, people, assembly))
    return blocks


def _reference_block(chrom: str, listed: list[Site], people: People, assembly: Assembly) -> SiteBlock:
    """Positions where the cohort carries no simulated ALT: everyone REF, in the copies they have."""
    haplotypes = np.zeros((len(listed), 2 * people.size), np.int8)
    slots = np.arange(2 * people.size)
    for i, site in enumerate(listed):
        exists = (slots % 2) < np.repeat(copies(people, inheritance_at(assembly, chrom, site.pos)), 2)
        haplotypes[i, ~exists] = NO_ALLELE
    return SiteBlock(
        chrom=chrom,
        pos=np.array([s.pos for s in listed], np.int64),
        ids=tuple(s.id for s in listed),
        refs=tuple(s.ref for s in listed),
        alts=tuple(s.alts for s in listed),
        haplotypes=haplotypes,
        forced=True,
    )


def _gene_block(
    stars: list[StarAllele], by_id: dict[str, Site], people: People, assembly: Assembly, rng: np.random.Generator
) -> SiteBlock:
    rsids = sorted({rsid for star in stars for rsid, _ in star.variants}, key=lambda r: by_id[r].pos)
    chrom = by_id[rsids[0]].chrom
    mode = inheritance_at(assembly, chrom, by_id[rsids[0]].pos)
    # Each founder haplotype carries star allele k with its population's frequency, else none (*1).
    cumulative = np.cumsum(np.array([star.frequency for star in stars]).T, axis=1)  # populations × stars
    slot_population = np.repeat(people.population, 2)
    star_of_slot = (rng.random(2 * people.size)[:, None] >= cumulative[slot_population]).sum(axis=1)
    carries = np.zeros((len(rsids), 2 * people.size), np.int8)
    for k, star in enumerate(stars):
        for rsid, alt in star.variants:  # the ALT's index among the position's listed ALTs
            carries[rsids.index(rsid), star_of_slot == k] = by_id[rsid].alts.index(alt) + 1
    slots = np.arange(2 * people.size)
    exists = (slots % 2) < np.repeat(copies(people, mode), 2)
    carries[:, ~exists] = NO_ALLELE
    pass_to_children(carries, people, mode, rng)
    return SiteBlock(
        chrom=chrom,
        pos=np.array([by_id[r].pos for r in rsids], np.int64),
        ids=tuple(rsids),
        refs=tuple(by_id[r].ref for r in rsids),
        alts=tuple(by_id[r].alts for r in rsids),
        haplotypes=carries,
        forced=True,
    )


def reserved_positions(blocks: list[SiteBlock]) -> dict[str, npt.NDArray[np.int64]]:
    """Sorted PGx positions per contig (every base of each REF), which simulated sites keep clear of."""
    out: dict[str, list[int]] = {}
    for block in blocks:
        for pos, ref in zip(block.pos.tolist(), block.refs, strict=True):
            out.setdefault(block.chrom, []).extend(range(pos, pos + len(ref)))
    return {chrom: np.array(sorted(set(pos)), np.int64) for chrom, pos in out.items()}
