"""Beacon g_variant queries over the store's alleles: which stored alleles a request names.

The store keeps alleles VCF-style: 1-based `pos`, normalised (left-aligned, parsimonious) with
the anchor base kept for indels. Beacon coordinates are 0-based, `end` exclusive, and clients
write indels two ways: VCF-style with the anchor base (start = pos − 1, ref "AT", alt "A") or
trimmed as VRS does (start = pos, ref "T", alt ""). Both find the same stored allele.

Query kinds (docs.genomebeacons.org, "Genomic variant queries"):
* sequence: referenceName + start + alternateBases (+ referenceBases): the allele at that start;
  `N` in the bases matches any base;
* range: start + end: every allele whose reference span overlaps [start, end), optionally only
  those of a `variantType`, with given bases, or within variantMin/MaxLength;
* bracket: start=[a, b], end=[c, d]: alleles starting within [a, b] and ending within [c, d];
* geneId: a range over the gene's GENCODE span (the node's gene models);
* geneId + aminoacidChange: the alleles in that span whose protein annotation, as the submitting
  centre's VEP, bcftools csq or snpEff wrote it, gives that change in that gene (beacon.aminoacid).

Lengths (variantMin/MaxLength) are the length of the change: the reference length for SNVs and
MNVs, |len(ref) − len(alt)| for insertions and deletions.

Everything is a mask over Arrow columns: no Python loop over alleles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.beacon.request import VariantQuery
from genomenode.domain.assembly import Assembly, canonical_contig, parse_assembly_name
from genomenode.domain.variant import Region
from genomenode.errors import BeaconRequestError

Mask = npt.NDArray[np.bool_]

# variantType values this beacon understands: the words the spec's examples use and their
# Sequence Ontology / EFO terms. Sequence kinds match stored REF/ALT by length; structural kinds
# match symbolic ALTs (<DEL>, <CN0>, <DUP>, ...), which the 1000 Genomes release carries for CNVs.
_SEQUENCE_TYPES = {
    "SNP": "snv",
    "SNV": "snv",
    "SO:0001483": "snv",
    "MNP": "mnv",
    "MNV": "mnv",
    "SO:0002007": "mnv",
    "INDEL": "indel",
    "SO:1000032": "indel",
    "DEL": "deletion",
    "SO:0000159": "deletion",
    "INS": "insertion",
    "SO:0000667": "insertion",
}
_LOSS = ("<DEL", "<CN0>", "<CN1>")
_GAIN = ("<DUP", "<CN2>", "<CN3>", "<CN4>", "<CN5>", "<CN6>", "<CN7>", "<CN8>", "<CN9>")
_SYMBOLS: dict[str, tuple[str, ...]] = {
    "deletion": _LOSS,
    "insertion": ("<INS",),
    "CNV": ("<CN", "<DEL", "<DUP"),
    "EFO:0030067": ("<CN", "<DEL", "<DUP"),  # copy number variation
    "EFO:0030068": ("<CN1>",),  # low-level copy number loss
    "EFO:0030069": ("<CN0>",),  # complete genomic deletion
    "EFO:0030070": _GAIN,  # copy number gain
    "EFO:0030071": _GAIN,
    "EFO:0030072": _GAIN,
    "DUP": _GAIN,
    "SO:1000035": _GAIN,
    "INV": ("<INV",),
    "SO:1000036": ("<INV",),
    "BND": ("<BND", "]", "["),
    "SV": ("<",),
}


def variant_type(ref: str, alt: str) -> str:
    """The `variantType` a response gives a stored allele: SNP, MNP, DEL, INS or INDEL, and for
    symbolic ALTs DEL, DUP, INV, INS or the EFO copy-number term."""
    if alt.startswith("<"):
        symbol = alt.upper()
        if symbol in ("<CN0>",):
            return "EFO:0030069"
        if symbol in ("<CN1>",):
            return "EFO:0030068"
        if symbol.startswith("<CN"):
            return "EFO:0030070"
        return next((t for t in ("DEL", "DUP", "INV", "INS") if symbol.startswith(f"<{t}")), "SV")
    if len(ref) == len(alt):
        return "SNP" if len(ref) == 1 else "MNP"
    if len(alt) == 1 and ref.startswith(alt):
        return "DEL"
    if len(ref) == 1 and alt.startswith(ref):
        return "INS"
    return "INDEL"


def record_bases(alt: str) -> str:
    """ALT as a record's `alternateBases` (IUPAC only): a symbolic ALT becomes N, its kind is in
    variantType and its name stays in the variant's id."""
    return "N" if alt.startswith("<") or "[" in alt or "]" in alt else alt


@dataclass(frozen=True)
class VariantSearch:
    """Where to read (positions, or a region) and what to keep of what was read."""

    assembly: Assembly | None  # None: the request named none; the node's one assembly applies
    chrom: str
    positions: tuple[int, ...] = ()  # 1-based positions to read (sequence queries)
    region: Region | None = None
    query: VariantQuery = field(default_factory=VariantQuery)
    gene: str | None = None


def plan(query: VariantQuery, *, gene_region: Region | None = None) -> VariantSearch:
    """Where the request's alleles can be. `gene_region`: the span of `query.gene_id`, looked up by
    the caller (the gene models need an assembly). An aminoacidChange query reads the gene's span;
    which alleles there carry the change is decided from their annotation (beacon.aminoacid)."""
    assembly = _assembly(query.assembly)
    if query.variant_type is not None:
        _variant_kind(query.variant_type)
    if query.kind == "hgvs":
        raise BeaconRequestError(
            "genomicAlleleShortForm (HGVS) queries are not supported; ask by referenceName, start and bases"
        )
    if query.kind in ("gene", "aminoacid"):
        if gene_region is None:
            raise BeaconRequestError(f"geneId {query.gene_id!r}: no such gene in the node's gene models")
        return VariantSearch(assembly, gene_region.chrom, region=gene_region, query=query, gene=query.gene_id)
    chrom = _chrom(query.reference_name or "")
    if query.kind == "sequence":
        start0 = query.start[0]
        positions = [start0 + 1]
        if query.reference_bases == "" or query.alternate_bases == "":
            positions.append(start0)  # trimmed (VRS-style) indel: the stored anchor base sits before
        return VariantSearch(assembly, chrom, positions=tuple(p for p in positions if p >= 1), query=query)
    if query.kind == "range":
        return VariantSearch(assembly, chrom, region=Region(chrom, query.start[0] + 1, query.end[0]), query=query)
    # bracket: alleles start within start=[a, b] and end within end=[c, d]; read their starts
    return VariantSearch(
        assembly, chrom, region=Region(chrom, query.start[0] + 1, max(query.start[1] + 1, 1)), query=query
    )


def _assembly(name: str | None) -> Assembly | None:
    if name is None:
        return None
    found = parse_assembly_name(name)
    if found is None:
        raise BeaconRequestError(
            f"assemblyId {name!r}: this node holds GRCh38 and GRCh37 data (GRCh38, hg38, GCF_000001405.40, "
            "GRCh37, hg19, GCF_000001405.25)"
        )
    return found


def _chrom(name: str) -> str:
    bare = name[len("refseq:") :] if name.lower().startswith("refseq:") else name
    chrom = canonical_contig(bare)
    if chrom is None:
        raise BeaconRequestError(
            f"referenceName {name!r}: use 1..22, X, Y, MT (with or without 'chr') or a RefSeq accession"
        )
    return chrom


def select(cells: pa.Table, search: VariantSearch) -> Mask:
    """Which rows of `cells` (variant_stats rows read for `search`) are alleles the request names.

    Every row of an allele gets the same answer, so what is kept can be suppressed as a whole.
    """
    n = cells.num_rows
    if n == 0:
        return np.zeros(0, np.bool_)
    q = search.query
    pos = np.asarray(cells["pos"].to_numpy(), dtype=np.int64)
    ref_len = np.asarray(pc.utf8_length(cells["ref"]).to_numpy(), dtype=np.int64)
    alt_len = np.asarray(pc.utf8_length(cells["alt"]).to_numpy(), dtype=np.int64)
    keep = np.ones(n, np.bool_)
    if q.kind == "sequence":
        keep &= _sequence_match(cells, pos, q)
    else:
        keep &= _bases_match(cells["ref"], q.reference_bases) & _bases_match(cells["alt"], q.alternate_bases)
    if q.kind == "bracket":
        start0, end0 = pos - 1, pos - 1 + ref_len
        keep &= (start0 >= q.start[0]) & (start0 <= q.start[1]) & (end0 >= q.end[0]) & (end0 <= q.end[1])
    symbolic = np.asarray(
        pc.or_(pc.starts_with(cells["alt"], "<"), pc.match_substring_regex(cells["alt"], r"[\[\]]")).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.bool_,
    )
    if q.variant_type is not None:
        keep &= _type_mask(q.variant_type, cells["alt"], ref_len, alt_len, symbolic)
    change = np.where(ref_len == alt_len, ref_len, np.abs(ref_len - alt_len))
    if q.min_length is not None or q.max_length is not None:
        keep &= ~symbolic  # a symbolic ALT's length is in INFO/END, which the statistics do not carry
    if q.min_length is not None:
        keep &= change >= q.min_length
    if q.max_length is not None:
        keep &= change <= q.max_length
    return keep


def _sequence_match(cells: pa.Table, pos: npt.NDArray[np.int64], q: VariantQuery) -> Mask:
    start0 = q.start[0]
    anchored = (pos == start0 + 1) & _bases_match(cells["ref"], q.reference_bases)
    anchored &= _bases_match(cells["alt"], q.alternate_bases)
    if not (q.reference_bases == "" or q.alternate_bases == ""):
        return np.asarray(anchored, dtype=np.bool_)
    # trimmed form: drop the stored anchor base (shared first base) and compare the rest
    first_ref = pc.utf8_slice_codeunits(cells["ref"], 0, 1)
    first_alt = pc.utf8_slice_codeunits(cells["alt"], 0, 1)
    shared = np.asarray(pc.equal(first_ref, first_alt).to_numpy(zero_copy_only=False), dtype=np.bool_)
    ref_rest = pc.utf8_slice_codeunits(cells["ref"], 1)
    alt_rest = pc.utf8_slice_codeunits(cells["alt"], 1)
    trimmed = (pos == start0) & shared & _bases_match(ref_rest, q.reference_bases)
    trimmed &= _bases_match(alt_rest, q.alternate_bases)
    return np.asarray(anchored | trimmed, dtype=np.bool_)


def _bases_match(column: pa.ChunkedArray | pa.Array, bases: str | None) -> Mask:
    """Equality, with IUPAC N matching any one base; None matches everything."""
    if bases is None:
        return np.ones(len(column), np.bool_)
    if "N" not in bases:
        return np.asarray(pc.equal(column, bases).to_numpy(zero_copy_only=False), dtype=np.bool_)
    pattern = "^" + "".join("[ACGTN]" if b == "N" else re.escape(b) for b in bases) + "$"
    return np.asarray(pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _variant_kind(name: str) -> tuple[str | None, tuple[str, ...]]:
    """The sequence kind and the symbolic-ALT prefixes a variantType stands for."""
    key = name.upper()
    kind = _SEQUENCE_TYPES.get(key)
    prefixes = _SYMBOLS.get(kind or key, ())
    if kind is None and not prefixes:
        accepted = ", ".join(sorted({*_SEQUENCE_TYPES, *_SYMBOLS} - {"deletion", "insertion"}))
        raise BeaconRequestError(f"variantType {name!r}: accepted {accepted}")
    return kind, prefixes


def _type_mask(
    name: str,
    alt: pa.ChunkedArray,
    ref_len: npt.NDArray[np.int64],
    alt_len: npt.NDArray[np.int64],
    symbolic: Mask,
) -> Mask:
    kind, prefixes = _variant_kind(name)
    out = np.zeros(len(ref_len), np.bool_)
    if kind is not None:
        masks = {
            "snv": (ref_len == 1) & (alt_len == 1),
            "mnv": (ref_len == alt_len) & (ref_len > 1),
            "indel": ref_len != alt_len,
            "deletion": ref_len > alt_len,
            "insertion": alt_len > ref_len,
        }
        out |= masks[kind] & ~symbolic
    if prefixes:
        upper = pc.utf8_upper(alt)
        for prefix in prefixes:
            found = pc.starts_with(upper, prefix) if prefix.startswith("<") else pc.match_substring(upper, prefix)
            out |= np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_) & symbolic
    return out
