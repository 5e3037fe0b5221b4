"""Turn simulated haplotypes into one centre's VCF lines: genotypes, depths, qualities, ploidy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from genomenode.domain.assembly import Assembly, contig_lengths, is_par

MISSING_RATE = 0.005


@dataclass(frozen=True)
class SiteGenotypes:
    chrom: str
    pos: int
    id: str
    ref: str
    alts: list[str]
    haplotypes: npt.NDArray[np.int8]  # 2 per person, in person order: allele index per haplotype


def header_lines(assembly: Assembly, samples: list[str]) -> list[str]:
    return [
        "##fileformat=VCFv4.2",
        *[f"##contig=<ID={c},length={n}>" for c, n in contig_lengths(assembly).items()],
        f"##reference={assembly.value}",
        "##source=genomenode-simulate (msprime)",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="Low quality">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]


def format_records(
    sites: list[SiteGenotypes],
    members: npt.NDArray[np.int64],
    names: list[str],
    male: npt.NDArray[np.bool_],
    assembly: Assembly,
    rng: np.random.Generator,
) -> tuple[list[str], Iterator[str]]:
    """Header and records of the VCF a centre holding `members` would send (variant-only)."""
    return header_lines(assembly, names), _records(sites, members, male[members], assembly, rng)


def _records(
    sites: list[SiteGenotypes],
    members: npt.NDArray[np.int64],
    male: npt.NDArray[np.bool_],
    assembly: Assembly,
    rng: np.random.Generator,
) -> Iterator[str]:
    n = len(members)
    for site in sites:
        a = site.haplotypes[2 * members]
        b = site.haplotypes[2 * members + 1]
        haploid = male & (site.chrom == "chrY" or (site.chrom == "chrX" and not is_par(assembly, site.chrom, site.pos)))
        absent = ~male if site.chrom == "chrY" else np.zeros(n, np.bool_)
        missing = rng.random(n) < MISSING_RATE
        carries = ((a > 0) | ((b > 0) & ~haploid)) & ~absent & ~missing
        if not carries.any():
            continue  # variant-only: a centre sends no record where none of its called people has an ALT
        depth = rng.negative_binomial(8, 8 / (8 + 30), size=n) + 1
        cells = []
        for i in range(n):
            if absent[i]:
                cells.append(".:.:.:.")
                continue
            alleles = (int(a[i]),) if haploid[i] else (int(a[i]), int(b[i]))
            if missing[i]:
                cells.append(("." if haploid[i] else "./.") + ":.:.:.")
                continue
            dp = int(depth[i])
            ad = [0] * (1 + len(site.alts))
            for allele in alleles:
                ad[allele] += dp // len(alleles)
            ad[alleles[0]] += dp - sum(ad)
            gq = 99 if dp >= 20 else int(3 * dp)
            cells.append(f"{'/'.join(map(str, alleles))}:{dp}:{gq}:{','.join(map(str, ad))}")
        qual = int(rng.integers(30, 3000))
        filt = "LowQual" if qual < 50 else "PASS"
        yield "\t".join(
            [
                site.chrom,
                str(site.pos),
                site.id,
                site.ref,
                ",".join(site.alts),
                str(qual),
                filt,
                ".",
                "GT:DP:GQ:AD",
                *cells,
            ]
        )
