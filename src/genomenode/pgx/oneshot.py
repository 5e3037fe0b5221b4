"""`genomenode pgx --vcf FILE`: one sample's PGx report from a VCF, no database needed.

Only the records over PharmCAT's positions are read (through the index when the file has one).
PharmCAT's definitions are on GRCh38: a file whose header says GRCh37 is refused with what to do,
rather than matched at the wrong coordinates. A VCF that lacks positions gives a report that says
the calls are incomplete and which positions were missing, never a silent reference call.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genomenode.domain.assembly import Assembly, assembly_evidence
from genomenode.errors import PgxError, listing
from genomenode.ingest.outside_calls import OutsideCall
from genomenode.ingest.vcf import genotypes_at, read_header
from genomenode.pgx.calling import call_sample
from genomenode.pgx.knowledge import PgxKnowledge, knowledge

WINDOW_PAD = 50  # bases either side: a record written further left (an unnormalised indel) still overlaps


def windows(k: PgxKnowledge) -> list[tuple[str, int, int]]:
    return [(s.chrom, max(1, s.position - WINDOW_PAD), s.end + WINDOW_PAD) for s in k.sites.by_key.values()]


def pgx_for_vcf(
    path: Path,
    *,
    sample: str | None = None,
    outside_calls: Sequence[OutsideCall] = (),
    k: PgxKnowledge | None = None,
) -> dict[str, Any]:
    """The report for `sample` (the only one, when the file has one) of the VCF at `path`."""
    k = k or knowledge()
    header = read_header(path)
    evidence = assembly_evidence(header.contigs)
    if evidence.votes.get(Assembly.GRCh37) and not evidence.votes.get(Assembly.GRCh38):
        raise PgxError(
            f"{path}: the header's contig lengths say GRCh37 ({evidence.describe()}); PharmCAT's allele "
            "definitions are GRCh38 positions: call the PGx regions on GRCh38 (or lift the VCF over) and try again"
        )
    if not header.samples:
        raise PgxError(f"{path}: the VCF has no sample columns; PGx calls need genotypes")
    if sample is None:
        if len(header.samples) > 1:
            raise PgxError(
                f"{path}: {len(header.samples)} samples ({listing(list(header.samples))}); choose one with --sample"
            )
        sample = header.samples[0]
    elif sample not in header.samples:
        raise PgxError(f"{path}: no sample {sample!r} (samples: {listing(list(header.samples))}); check --sample")
    found = genotypes_at(path, windows(k), samples=[sample])
    return call_sample(k, found.observed(sample), sample=sample, outside_calls=outside_calls, source=str(path))
