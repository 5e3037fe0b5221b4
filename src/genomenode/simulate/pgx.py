"""Pharmacogenomic star alleles at their real positions, with population-specific frequencies.

Each star allele is PharmCAT's named allele, looked up by name in the gene's allele definition
(`store.pgx_reference`): its haplotype is every position where the definition's allele differs
from the gene's reference allele, in the definition's VCF notation, written with the matching ALT
of PharmCAT's GRCh38 position list. Nothing about a variant is typed here; this module only says
which named alleles the cohort carries and how common each is per population (rounded values of
the magnitude gnomAD, PharmGKB and CPIC's frequency tables report; synthetic data, not for
clinical use).

- A definition cell that is null is the reference. An IUPAC code (CYP2C19 *2's R at rs58973490,
  CYP2D6 *4's S, R, Y...) stands for either base and is written as the reference base, which the
  code includes, so the haplotype still matches that named allele.
- The reference allele is the remainder of each gene's frequencies, whatever its name: CYP2C19's
  reference is *38, so *1 (rs3758581 G) is listed explicitly at its real, common frequency and
  only ~2% of haplotypes are left as *38; DPYD's is "Reference", VKORC1's `rs9923231 reference
  (C)`, G6PD's `B (reference)`, everyone else's *1.
- A named allele whose VCF allele the position list does not offer (a position missing from the
  list, or another ALT there) is left out rather than placed somewhere invented; every allele
  below resolves against PharmCAT's 2025-11 data. A name the definition does not have, or
  frequencies of one gene adding up past 1, raise ConfigurationError when the blocks are made.

Star alleles of one gene are drawn as whole haplotypes, so a haplotype carries at most one of
them: TPMT*3A carries both of its SNVs together, and CYP2C19*2 and *17 never share a chromosome.
Each haplotype is drawn independently per population, i.e. under Hardy–Weinberg.

Every position of the list is *force-called*, as a regional centre does when it prepares VCFs for
PharmCAT: each centre's file has a record there with all the list's ALTs, 0/0 included, so every
demo sample gets a complete PGx call (a variant-only file would leave most positions missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import Assembly
from genomenode.errors import ConfigurationError
from genomenode.ingest.vcf_writer import Site, read_sites
from genomenode.interpret.pgx.definitions import IUPAC
from genomenode.simulate.people import People
from genomenode.simulate.sites import NO_ALLELE, SiteBlock, copies, inheritance_at, pass_to_children
from genomenode.store.pgx_reference import default_positions_vcf, load_reference

Frequencies = tuple[float, float, float, float, float]  # per POPULATIONS: NFE, FIN, AFR, SAS, EAS


@dataclass(frozen=True)
class StarAllele:
    gene: str
    name: str  # PharmCAT's named allele, spelled as in <gene>_translation.json
    frequency: Frequencies


STAR_ALLELES: tuple[StarAllele, ...] = (
    # CYP2C19's reference allele is *38 (rs3758581 A); *1 carries rs3758581 G, like *2, *3 and *17
    StarAllele("CYP2C19", "*1", (0.62, 0.57, 0.58, 0.49, 0.595)),
    StarAllele("CYP2C19", "*2", (0.15, 0.19, 0.17, 0.33, 0.30)),
    StarAllele("CYP2C19", "*3", (0.0002, 0.0001, 0.002, 0.01, 0.07)),
    StarAllele("CYP2C19", "*17", (0.21, 0.22, 0.23, 0.15, 0.015)),
    StarAllele("CYP2C9", "*2", (0.125, 0.085, 0.02, 0.035, 0.001)),
    StarAllele("CYP2C9", "*3", (0.07, 0.06, 0.012, 0.11, 0.035)),
    # CYP2D6 is an outside-call gene (copy number, hybrids), but its SNVs still belong in the VCF
    StarAllele("CYP2D6", "*4", (0.19, 0.16, 0.06, 0.10, 0.003)),
    StarAllele("CYP2D6", "*10", (0.02, 0.02, 0.04, 0.07, 0.42)),
    StarAllele("CYP4F2", "*3", (0.29, 0.30, 0.08, 0.40, 0.21)),
    StarAllele("DPYD", "c.1905+1G>A (*2A)", (0.008, 0.011, 0.001, 0.003, 0.0005)),
    StarAllele("DPYD", "c.2846A>T", (0.004, 0.003, 0.001, 0.001, 0.0001)),
    # HapB3: the commonest DPYD decreased-function allele in Europeans
    StarAllele("DPYD", "c.1129-5923C>G, c.1236G>A (HapB3)", (0.024, 0.017, 0.003, 0.004, 0.0005)),
    StarAllele("TPMT", "*3A", (0.034, 0.03, 0.004, 0.01, 0.0005)),
    StarAllele("TPMT", "*3C", (0.003, 0.003, 0.06, 0.005, 0.017)),
    StarAllele("VKORC1", "rs9923231 variant (T)", (0.39, 0.42, 0.06, 0.14, 0.89)),
    # SLCO1B1 c.521T>C mostly travels with c.388A>G (*15); alone it is *5; c.388G alone is *37
    StarAllele("SLCO1B1", "*15", (0.14, 0.18, 0.02, 0.04, 0.11)),
    StarAllele("SLCO1B1", "*5", (0.02, 0.02, 0.002, 0.005, 0.01)),
    StarAllele("SLCO1B1", "*37", (0.26, 0.25, 0.75, 0.45, 0.62)),
    StarAllele("NUDT15", "*3", (0.004, 0.002, 0.001, 0.07, 0.095)),
    # UGT1A1*28 (TA7 of the TA repeat) almost always carries *80: PharmCAT names the pair *80+*28
    StarAllele("UGT1A1", "*80+*28", (0.30, 0.31, 0.36, 0.35, 0.12)),
    StarAllele("UGT1A1", "*80", (0.01, 0.01, 0.01, 0.05, 0.01)),
    StarAllele("UGT1A1", "*37", (0.0005, 0.0005, 0.05, 0.001, 0.0001)),
    StarAllele("CYP3A5", "*3", (0.93, 0.95, 0.32, 0.67, 0.71)),
    StarAllele("G6PD", "A- 202A_376G", (0.0002, 0.0001, 0.11, 0.001, 0.0001)),
    StarAllele("G6PD", "A", (0.001, 0.0005, 0.20, 0.005, 0.0001)),
)


@dataclass(frozen=True)
class PlantedAllele:
    """A star allele as written into the VCF: the listed records it changes and the ALT at each."""

    star: StarAllele
    chrom: str
    sites: tuple[Site, ...]  # the position list's records where the allele differs from the reference
    alleles: tuple[int, ...]  # per site: the index of the allele's VCF allele among the record's ALTs, 1-based


def default_pgx_positions() -> Path:
    """PharmCAT's position list in the PGx reference folder ($GENOMENODE_PGX_REFERENCE, else beside the checkout)."""
    return default_positions_vcf()


def star_changes(star: StarAllele, definition: Mapping[str, Any]) -> tuple[tuple[int, str, str], ...]:
    """(VCF POS, REF, allele) wherever `star`'s named allele differs from the gene's reference allele.

    Null cells are the reference; an IUPAC code is written as the reference base it includes.
    ConfigurationError when the definition has no allele of that name (or an IUPAC code leaves
    the reference base out, which no PharmCAT definition does).
    """
    where = f"{definition.get('gene', star.gene)}_translation.json"
    named = {a["name"]: a for a in definition["namedAlleles"]}
    if star.name not in named:
        raise ConfigurationError(
            f"simulate/pgx.py names {star.gene} allele {star.name!r}, which {where} does not define; use one of "
            f"{', '.join(list(named)[:12])}… as spelled there (the reference data may have renamed it)"
        )
    changes = []
    for variant, cell in zip(definition["variants"], named[star.name]["alleles"], strict=True):
        ref = str(variant["ref"])
        if cell is None or cell == ref:
            continue
        if len(cell) == 1 and len(IUPAC.get(cell, "")) > 1:
            if ref in IUPAC[cell]:
                continue  # either base: the reference one keeps the haplotype inside the allele
            raise ConfigurationError(
                f"{where}: {star.name} has IUPAC {cell} at {variant['position']}, which excludes the reference "
                f"{ref}; simulate/pgx.py cannot write it as one base"
            )
        changes.append((int(variant["position"]), ref, str(cell)))
    return tuple(changes)


def plant(
    stars: tuple[StarAllele, ...], definitions: Mapping[str, Mapping[str, Any]], sites: list[Site]
) -> list[PlantedAllele]:
    """Each star allele whose changes the position list can write, with the ALT index at each record.

    A star allele one of whose VCF alleles the list does not offer is left out; an unknown gene or
    allele name, or one gene's frequencies adding up past 1 in a population, raise ConfigurationError.
    """
    by_position = {(s.chrom, s.pos): s for s in sites}
    planted = []
    for star in stars:
        if star.gene not in definitions:
            raise ConfigurationError(
                f"simulate/pgx.py names gene {star.gene}, which has no allele definition in the PGx reference "
                f"({', '.join(sorted(definitions))})"
            )
        definition = definitions[star.gene]
        chrom = str(definition["chromosome"])
        changes = star_changes(star, definition)
        if not changes:
            raise ConfigurationError(
                f"simulate/pgx.py lists {star.gene} {star.name}, which is the gene's reference sequence: leave it "
                "out, the reference allele is what remains of the frequencies"
            )
        listed = [by_position.get((chrom, pos)) for pos, _, _ in changes]
        wanted = [allele for _, _, allele in changes]
        if any(s is None or a not in s.alts for s, a in zip(listed, wanted, strict=True)):
            continue  # the list cannot write it: left out rather than placed somewhere invented
        records = tuple(s for s in listed if s is not None)
        alleles = tuple(s.alts.index(a) + 1 for s, a in zip(records, wanted, strict=True))
        planted.append(PlantedAllele(star, chrom, records, alleles))
    seen: dict[tuple[str, tuple[tuple[str, int], ...]], str] = {}
    for p in planted:
        key = (p.star.gene, tuple((s.id, a) for s, a in zip(p.sites, p.alleles, strict=True)))
        if key in seen:
            raise ConfigurationError(
                f"simulate/pgx.py: {p.star.gene} {p.star.name} and {seen[key]} would be written as the same "
                "haplotype; keep one of them"
            )
        seen[key] = p.star.name
    for gene in dict.fromkeys(star.gene for star in stars):
        total = np.sum([star.frequency for star in stars if star.gene == gene], axis=0)
        if np.any(total > 1 + 1e-9):
            raise ConfigurationError(f"simulate/pgx.py: {gene}'s star allele frequencies add up to {total} (> 1)")
    return planted


def pgx_blocks(
    path: Path,
    people: People,
    assembly: Assembly,
    rng: np.random.Generator,
    *,
    definitions: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[SiteBlock]:
    """One block per gene of STAR_ALLELES the position list can write, then one block per contig of
    every other listed position (everyone reference there); all forced.

    `definitions` are PharmCAT's allele definitions by gene (default: `load_reference()`'s). The
    list is GRCh38, so other assemblies get no PGx sites.
    """
    if assembly is not Assembly.GRCh38:
        return []
    sites = read_sites(path)
    planted = plant(STAR_ALLELES, load_reference().definitions if definitions is None else definitions, sites)
    blocks = []
    for gene in dict.fromkeys(p.star.gene for p in planted):
        blocks.append(_gene_block([p for p in planted if p.star.gene == gene], people, assembly, rng))
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
    planted: list[PlantedAllele], people: People, assembly: Assembly, rng: np.random.Generator
) -> SiteBlock:
    records = sorted({s for p in planted for s in p.sites}, key=lambda s: s.pos)
    row = {s.pos: i for i, s in enumerate(records)}
    chrom = planted[0].chrom
    mode = inheritance_at(assembly, chrom, records[0].pos)
    # Each founder haplotype carries star allele k with its population's frequency, else the reference.
    cumulative = np.cumsum(np.array([p.star.frequency for p in planted]).T, axis=1)  # populations × stars
    slot_population = np.repeat(people.population, 2)
    star_of_slot = (rng.random(2 * people.size)[:, None] >= cumulative[slot_population]).sum(axis=1)
    carries = np.zeros((len(records), 2 * people.size), np.int8)
    for k, p in enumerate(planted):
        for site, allele in zip(p.sites, p.alleles, strict=True):
            carries[row[site.pos], star_of_slot == k] = allele
    slots = np.arange(2 * people.size)
    exists = (slots % 2) < np.repeat(copies(people, mode), 2)
    carries[:, ~exists] = NO_ALLELE
    pass_to_children(carries, people, mode, rng)
    return SiteBlock(
        chrom=chrom,
        pos=np.array([s.pos for s in records], np.int64),
        ids=tuple(s.id for s in records),
        refs=tuple(s.ref for s in records),
        alts=tuple(s.alts for s in records),
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
