"""Variants and regions as users write them, parsed into canonical form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from genomenode.domain.assembly import canonical_contig
from genomenode.errors import InvalidRegionError, InvalidVariantError

_BASES = re.compile(r"^[ACGTN]+$")
_REGION = re.compile(r"^(?P<chrom>[^:\s]+)(?::(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?)?$")
_VARIANT = re.compile(r"^(?P<chrom>[^:\-\s]+)[:\-](?P<pos>\d+)[:\-](?P<ref>[A-Za-z]+)[:\-](?P<alt>[A-Za-z]+)$")


@dataclass(frozen=True, order=True)
class Variant:
    """A normalised allele: 1-based position, REF and one ALT, canonical contig."""

    chrom: str
    pos: int
    ref: str
    alt: str

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    @property
    def id(self) -> str:
        """The API's path form, chr10-94781859-G-A (as gnomAD writes variant ids)."""
        return f"{self.chrom}-{self.pos}-{self.ref}-{self.alt}"


@dataclass(frozen=True)
class Region:
    """A closed interval [start, end] on one contig, 1-based as users write chr1:100-2000."""

    chrom: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


def parse_contig(text: str, *, what: str = "contig") -> str:
    chrom = canonical_contig(text)
    if chrom is None:
        raise InvalidRegionError(
            f"unknown {what} {text!r}: use chr1..chr22, chrX, chrY or chrM (with or without 'chr')"
        )
    return chrom


def parse_region(text: str) -> Region:
    """Parse `chr1:100-2000`, `1:100-2000`, `chr1:1,000-2,000`, `chr1:100` or `chr1`."""
    match = _REGION.match(text.strip())
    if not match:
        raise InvalidRegionError(f"cannot read region {text!r}: write it as chr1:100-2000")
    chrom = parse_contig(match["chrom"])
    start = int(match["start"].replace(",", "")) if match["start"] else 1
    end = int(match["end"].replace(",", "")) if match["end"] else (start if match["start"] else 2**31 - 1)
    if start < 1 or end < start:
        raise InvalidRegionError(f"region {text!r} is empty: start must be ≥ 1 and ≤ end")
    return Region(chrom, start, end)


def parse_variant(text: str) -> Variant:
    """Parse `chr10:94781859:G:A` or `chr10-94781859-G-A` (case of bases is ignored)."""
    match = _VARIANT.match(text.strip())
    if not match:
        raise InvalidVariantError(f"cannot read variant {text!r}: write it as chr10:94781859:G:A or chr10-94781859-G-A")
    chrom = canonical_contig(match["chrom"])
    if chrom is None:
        raise InvalidVariantError(f"unknown contig {match['chrom']!r} in variant {text!r}")
    ref, alt = match["ref"].upper(), match["alt"].upper()
    if not (_BASES.match(ref) and _BASES.match(alt)) or ref == alt:
        raise InvalidVariantError(f"variant {text!r}: REF and ALT must be different strings of A, C, G, T, N")
    pos = int(match["pos"])
    if pos < 1:
        raise InvalidVariantError(f"variant {text!r}: positions are 1-based")
    return Variant(chrom, pos, ref, alt)
