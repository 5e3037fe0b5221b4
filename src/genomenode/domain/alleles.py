"""Allele arithmetic that needs no reference genome: which alleles carry sequence, and the
parsimonious form of a REF/ALT pair (Tan, Abecasis & Kang 2015).

Pure, so both `ingest.normalize` (which adds left-alignment against a reference) and
`interpret.pgx` (which compares a VCF's records with PharmCAT's definitions) use the one rule.
"""

from __future__ import annotations


def is_symbolic(allele: str) -> bool:
    """Symbolic (<DEL>), breakend (G]17:198982]) or missing alleles have no sequence to trim."""
    return allele.startswith("<") or "[" in allele or "]" in allele or allele in (".", "*")


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop the shared suffix, then the shared prefix, always keeping one base in each allele."""
    if is_symbolic(alt):
        return pos, ref, alt
    end = 0
    while end < min(len(ref), len(alt)) - 1 and ref[-1 - end] == alt[-1 - end]:
        end += 1
    if end:
        ref, alt = ref[:-end], alt[:-end]
    start = 0
    while start < min(len(ref), len(alt)) - 1 and ref[start] == alt[start]:
        start += 1
    return pos + start, ref[start:], alt[start:]
