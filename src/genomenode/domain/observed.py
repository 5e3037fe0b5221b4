"""A sample's genotype at one VCF record, as the record wrote it: what PGx readers hand on.

Pharmacogenomic matching needs each position's genotype, hom-ref included, in the alleles of the
record that carried it (a multi-allelic TA repeat is one genotype, not three split rows). The VCF
reader (`ingest.vcf`) and the national store (`query.pgx`) both produce these; `interpret.pgx`
turns them into the allele definitions' notation. A position a reader could not call is simply
absent: never written as reference.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING = -1


@dataclass(frozen=True)
class ObservedGenotype:
    """`alleles` index `(ref, *alts)` per chromosome copy (length = ploidy); MISSING is '.'.

    `pos`/`ref`/`alts` are the record as written (not split, not trimmed); `phase_set` is FORMAT/PS
    when given, else None (a phased call without PS belongs to one phase set per sample and contig,
    as htslib and PharmCAT read it).
    """

    sample: str
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    alleles: tuple[int, ...]
    phased: bool
    phase_set: int | None = None

    @property
    def complete(self) -> bool:
        """Every copy called: a partial call such as `0/.` counts as missing for PGx (PharmCAT)."""
        return bool(self.alleles) and MISSING not in self.alleles

    def allele_text(self, index: int) -> str:
        return self.ref if index == 0 else self.alts[index - 1]
