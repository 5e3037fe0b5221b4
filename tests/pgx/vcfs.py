"""PGx test VCFs as PharmCAT's own tests build them: its position list, GTs edited per rsID."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from genomenode.store.pgx_reference import load_reference


def positions_vcf() -> Path:
    return load_reference().positions_vcf


def pgx_vcf(
    path: Path,
    genotypes: Mapping[str, str] | None = None,
    *,
    drop: frozenset[str] = frozenset(),
    samples: tuple[str, ...] = ("patient",),
    contig_lines: bool = True,
) -> Path:
    """A VCF of every PharmCAT position, 0/0 unless `genotypes` gives the rsID's GT (same for
    every sample; ALT indices as the position list writes them), without the rsIDs in `drop`."""
    out: list[str] = []
    for line in positions_vcf().read_text().splitlines():
        if line.startswith("##"):
            if contig_lines or not line.startswith("##contig"):
                out.append(line)
            continue
        fields = line.split("\t")
        if line.startswith("#CHROM"):
            out.append("\t".join(fields[:9] + list(samples)))
            continue
        if fields[2] in drop:
            continue
        gt = (genotypes or {}).get(fields[2], "0/0")
        out.append("\t".join(fields[:9] + [gt] * len(samples)))
    path.write_text("\n".join(out) + "\n")
    return path
