"""Callable regions (BED): where a variant-only VCF's silence means hom-ref rather than unknown.

BED is 0-based and half-open; the store is 1-based and inclusive. Contig names are made canonical
like the VCF's, and overlapping intervals are merged.
"""

from __future__ import annotations

from pathlib import Path

from genomenode.domain.assembly import canonical_contig
from genomenode.errors import InputError

Intervals = dict[str, list[tuple[int, int]]]


def read_bed(path: Path) -> Intervals:
    if not path.exists():
        raise InputError(f"{path}: callable-regions BED not found")
    raw: Intervals = {}
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.split("\t")
        if len(fields) < 3 or not fields[1].isdigit() or not fields[2].isdigit():
            raise InputError(f"{path}: line {line_no}: a BED line needs chrom, start and end separated by tabs")
        start, end = int(fields[1]), int(fields[2])
        if end <= start:
            raise InputError(f"{path}: line {line_no}: end {end} is not after start {start}")
        chrom = canonical_contig(fields[0])
        if chrom is not None:
            raw.setdefault(chrom, []).append((start + 1, end))
    return {chrom: _merge(sorted(spans)) for chrom, spans in raw.items()}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(start: int, end: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [start, end] inside `spans` (sorted, merged)."""
    return [(max(start, s), min(end, e)) for s, e in spans if s <= end and e >= start]


def sibling_bed(vcf: Path) -> Path | None:
    """A BED shipped beside the VCF as `<file>.callable.bed`."""
    candidate = vcf.with_name(vcf.name + ".callable.bed")
    return candidate if candidate.exists() else None
