"""Variant normalisation: one ALT per row, minimal alleles, left-aligned indels.

Two records describe the same variant only if they are written the same way, so every allele is
brought to the form `bcftools norm -m- -f REF` produces (Tan, Abecasis & Kang 2015, "Unified
representation of genetic variants"): parsimonious (no shared suffix, then no shared prefix beyond
the one anchor base) and, given a reference, left-aligned. Without a reference, indels in repeats
cannot be shifted; their trimmed form is kept and `--reference` is the fix.
"""

from __future__ import annotations

from collections.abc import Callable

from genomenode.domain.alleles import is_symbolic, trim

__all__ = ["Fetch", "is_symbolic", "left_align", "trim"]

# fetch(chrom, start, end) → reference bases, 1-based inclusive
Fetch = Callable[[str, int, int], str]


def left_align(chrom: str, pos: int, ref: str, alt: str, fetch: Fetch) -> tuple[int, str, str]:
    """Shift an indel left through repeats, then trim (the algorithm of Tan et al. 2015)."""
    if is_symbolic(alt) or len(ref) == len(alt):
        return trim(pos, ref, alt)
    changed = True
    while changed:
        changed = False
        if ref and alt and ref[-1] == alt[-1] and (pos > 1 or min(len(ref), len(alt)) > 1):
            ref, alt = ref[:-1], alt[:-1]
            changed = True
        if (not ref or not alt) and pos > 1:
            base = fetch(chrom, pos - 1, pos - 1).upper()
            ref, alt, pos = base + ref, base + alt, pos - 1
            changed = True
    return trim(pos, ref, alt)
