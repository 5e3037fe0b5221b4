"""Expected ploidy of a person at a position: what an absent record means in a variant-only VCF."""

from __future__ import annotations

from genomenode.domain.assembly import Assembly, is_par
from genomenode.domain.samples import Sex


def expected_ploidy(assembly: Assembly, contig: str, pos: int, sex: Sex) -> int:
    """Copies of `contig` at `pos` a person of `sex` carries (chrM counts as haploid, as callers emit it).

    Unknown sex on chrX/chrY has no safe answer; callers use the ploidy observed in the file instead.
    """
    if contig == "chrM":
        return 1
    if contig == "chrX":
        if sex is Sex.FEMALE or is_par(assembly, contig, pos):
            return 2
        return 1 if sex is Sex.MALE else 2
    if contig == "chrY":
        if sex is Sex.FEMALE:
            return 0
        if is_par(assembly, contig, pos):
            return 0  # PAR on chrY is hard-masked in GRCh38 and called on chrX
        return 1
    return 2
