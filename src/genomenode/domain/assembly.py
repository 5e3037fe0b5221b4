"""Assemblies, canonical contig names, pseudo-autosomal regions and assembly detection.

Contig lengths come from the GRC assembly reports shipped in `bioutils` (biocommons); nothing here
retypes them. The store always uses GRCh38-style names (`chr1..chr22, chrX, chrY, chrM`) whatever
the input file calls its contigs, so `22`, `chr22` and `NC_000022.10` all meet in one partition.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bioutils.assemblies import get_assembly

from genomenode.errors import AssemblyError

CANONICAL_CONTIGS: tuple[str, ...] = (*(f"chr{i}" for i in range(1, 23)), "chrX", "chrY", "chrM")
CONTIG_ORDER: Mapping[str, int] = {name: i for i, name in enumerate(CANONICAL_CONTIGS)}


class Assembly(enum.StrEnum):
    GRCh37 = "GRCh37"
    GRCh38 = "GRCh38"


# The GRC report each assembly's lengths come from (the last patch keeps the primary lengths).
_REPORTS = {Assembly.GRCh37: "GRCh37.p13", Assembly.GRCh38: "GRCh38.p14"}

# UCSC hg19 carries the Yoruba mitochondrion (NC_001807, 16,571 bp) instead of rCRS (16,569 bp).
# Its presence identifies the hg19 flavour of GRCh37, as in Illumina's Platinum Genomes VCFs.
HG19_CHRM_LENGTH = 16571

# Pseudo-autosomal regions, 1-based inclusive, from the GRC's assembly region definitions.
# Within them males are diploid on chrX (and chrY carries the same sequence).
PAR_REGIONS: Mapping[Assembly, Mapping[str, tuple[tuple[int, int], ...]]] = {
    Assembly.GRCh38: {
        "chrX": ((10001, 2781479), (155701383, 156030895)),
        "chrY": ((10001, 2781479), (56887903, 57217415)),
    },
    Assembly.GRCh37: {
        "chrX": ((60001, 2699520), (154931044, 155260560)),
        "chrY": ((10001, 2649520), (59034050, 59373566)),
    },
}


def canonical_contig(name: str) -> str | None:
    """Map `1`, `chr1`, `CHR1`, `MT`, `chrMT`, `M` to GRCh38-style names; None for other contigs."""
    bare = name[3:] if name.lower().startswith("chr") else name
    bare = bare.upper()
    if bare in ("M", "MT"):
        return "chrM"
    if bare in ("X", "Y"):
        return f"chr{bare}"
    if bare.isdigit() and 1 <= int(bare) <= 22 and not bare.startswith("0"):
        return f"chr{bare}"
    return _refseq_to_canonical().get(name)


@functools.cache
def _refseq_to_canonical() -> dict[str, str]:
    out: dict[str, str] = {}
    for assembly in Assembly:
        for seq in get_assembly(_REPORTS[assembly])["sequences"]:
            if seq.get("sequence_role") != "assembled-molecule":
                continue
            canon = canonical_contig(seq["name"])
            if canon:
                out[seq["refseq_ac"]] = canon
                out[seq["genbank_ac"]] = canon
    return out


@functools.cache
@functools.cache
def refseq_accessions(assembly: Assembly) -> dict[str, str]:
    """Canonical contig → its RefSeq accession in this assembly (chr1 → NC_000001.11 in GRCh38),
    as GA4GH location records name sequences."""
    out: dict[str, str] = {}
    for seq in get_assembly(_REPORTS[assembly])["sequences"]:
        canon = canonical_contig(seq["name"]) if seq.get("sequence_role") == "assembled-molecule" else None
        if canon and seq.get("refseq_ac"):
            out[canon] = seq["refseq_ac"]
    return out


_ASSEMBLY_NAMES = {
    "grch38": Assembly.GRCh38,
    "hg38": Assembly.GRCh38,
    "gcf_000001405.26": Assembly.GRCh38,
    "grch37": Assembly.GRCh37,
    "hg19": Assembly.GRCh37,
    "gcf_000001405.13": Assembly.GRCh37,
    "gcf_000001405.25": Assembly.GRCh37,
}


def parse_assembly_name(text: str) -> Assembly | None:
    """GRCh38, hg38, GRCh38.p14, GCF_000001405.40 (any GRCh38 patch accession) and the GRCh37
    equivalents; None for anything else."""
    name = text.strip().lower()
    if name.startswith("grch3") and "." in name:
        name = name.split(".")[0]  # GRCh38.p13
    if name.startswith("gcf_000001405."):
        version = name.split(".")[1]
        if version.isdigit():
            return Assembly.GRCh38 if int(version) >= 26 else Assembly.GRCh37
    return _ASSEMBLY_NAMES.get(name)


def contig_lengths(assembly: Assembly) -> dict[str, int]:
    """Canonical contig name → length for the assembled chromosomes of `assembly`."""
    out: dict[str, int] = {}
    for seq in get_assembly(_REPORTS[assembly])["sequences"]:
        if seq.get("sequence_role") == "assembled-molecule":
            canon = canonical_contig(seq["name"])
            if canon:
                out[canon] = int(seq["length"])
    return out


def is_par(assembly: Assembly, contig: str, pos: int) -> bool:
    return any(lo <= pos <= hi for lo, hi in PAR_REGIONS[assembly].get(contig, ()))


@dataclass(frozen=True)
class AssemblyEvidence:
    """What a header says about its assembly, one vote per contig of known length."""

    votes: Mapping[Assembly, tuple[str, ...]]
    unrecognised: tuple[str, ...]

    def describe(self) -> str:
        parts = [f"{a.value}: {', '.join(c)}" for a, c in self.votes.items() if c]
        if self.unrecognised:
            parts.append(f"lengths matching neither: {', '.join(self.unrecognised)}")
        return "; ".join(parts) or "no contig lengths in the header"


def assembly_evidence(contigs: Iterable[tuple[str, int | None]]) -> AssemblyEvidence:
    votes: dict[Assembly, list[str]] = {a: [] for a in Assembly}
    unrecognised: list[str] = []
    for name, length in contigs:
        canon = canonical_contig(name)
        if canon is None or length is None:
            continue
        matched = [a for a in Assembly if contig_lengths(a).get(canon) == length]
        if canon == "chrM" and length == HG19_CHRM_LENGTH:
            matched = [Assembly.GRCh37]
        if len(matched) == 1:
            votes[matched[0]].append(canon)
        elif not matched:
            unrecognised.append(f"{name}={length}")
        # A length shared by both assemblies (chrM rCRS, some chromosomes) says nothing.
    return AssemblyEvidence({a: tuple(v) for a, v in votes.items()}, tuple(unrecognised))


def resolve_assembly(
    evidence: AssemblyEvidence,
    *,
    given: Assembly | None,
    dataset: Assembly | None,
    source: str,
) -> Assembly:
    """Decide a file's assembly from its header, the --assembly option and the dataset's.

    The header wins when it is unambiguous; a file whose header contradicts the dataset (or the
    option) is refused rather than silently mixed into another coordinate system.
    """
    detected = [a for a, v in evidence.votes.items() if v]
    if len(detected) > 1:
        raise AssemblyError(
            f"{source}: the header's contig lengths match different assemblies "
            f"({evidence.describe()}); fix the ##contig lines or split the file"
        )
    found = detected[0] if detected else None
    for label, expected in (("--assembly", given), ("the dataset", dataset)):
        if found and expected and found != expected:
            raise AssemblyError(
                f"{source}: the header's contig lengths say {found.value} ({evidence.describe()}) "
                f"but {label} is {expected.value}; a dataset holds one assembly, "
                "so ingest this file into a dataset of its own assembly"
            )
    chosen = found or given or dataset
    if chosen is None:
        raise AssemblyError(
            f"{source}: unknown assembly: {evidence.describe()}; "
            "add ##contig lines with lengths or pass --assembly GRCh37|GRCh38"
        )
    return chosen
