"""A sample's genotype at one definition position, in the allele definition's own notation.

This is the matcher's input. `interpret.pgx.observations` builds it from `ObservedGenotype`s
(whatever the VCF or store wrote: split, trimmed or multi-allelic records), so the matcher only
ever compares strings the definition file uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PositionCall:
    """`alleles`: one string per chromosome copy, each the definition's `ref` or one of its
    `alts` (or another sequence the sample carries there, which no named allele has);
    `position` is the definition's VCF POS (the anchor base for indels)."""

    chrom: str
    position: int
    alleles: tuple[str, ...]
    phased: bool
    phase_set: int | None = None


# (chrom, definition position) → call; a position absent from the mapping is missing.
SampleCalls = Mapping[tuple[str, int], PositionCall]
