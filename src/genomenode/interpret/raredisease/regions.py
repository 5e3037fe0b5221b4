"""The coarse class of a position from the gene models, for variants whose VCF carries no annotation.

From most to least severe (the order VEP would rank the consequence each implies):

    splice_site      the first or last two bases of an intron: VEP's splice donor/acceptor positions
    coding_exon      a CDS base (stop codon included)
    splice_region    bases 3–8 of an intron from either end, or the 3 exon bases next to an intron
                     (VEP's splice_region_variant: "within 1-3 bases of the exon or 3-8 bases of
                     the intron")
    utr              a 5' or 3' UTR base
    noncoding_exon   an exon base of a transcript that codes for nothing there (lncRNA, retained intron)
    intron           between two exons of one transcript
    genic            inside a gene's span but in none of the above (or no feature table was given)
    intergenic       in no gene
    unknown_contig   a contig the gene models do not cover: nothing is claimed

A position gets every class that applies (in `flags`, one bit per class, across all transcripts)
and the most severe of them (`region_class`). This is where a position lies, not what a variant
does there: a coding_exon SNV may be synonymous, and a splice_site position says nothing of
whether splicing changes. Rules that need a predicted consequence (ACMG PVS1) must use an
annotation (`consequence.py`), never this class.

Inputs are tables the caller loads (this package reads no files): the genes table
(`store.genes.GENE_SCHEMA`: gene_symbol, chrom, start, end; 1-based inclusive) and, optionally,
the feature table (`store.transcripts.FEATURE_SCHEMA`: feature, chrom, start, end). Filter the
genes table first (e.g. to protein_coding) to limit which genes count.

Everything is vectorised: `RegionIndex.build` cuts the genome (one coordinate, contig index ×
2³² + position) into segments wherever a class run or a gene starts or ends, each holding its
class bits and its genes; classing a batch is one `np.searchsorted` (two for spans) and gathers:
about 0.5–1 s for 4.5 M VCF-ordered positions on 2 cores, ~1 s to build for GRCh38 (see the tests).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.domain.assembly import CONTIG_ORDER, canonical_contig
from genomenode.interpret.raredisease.arrays import distinct_sorted


class RegionClass(enum.IntEnum):
    SPLICE_SITE = 0
    CODING_EXON = 1
    SPLICE_REGION = 2
    UTR = 3
    NONCODING_EXON = 4
    INTRON = 5
    GENIC = 6
    INTERGENIC = 7
    UNKNOWN_CONTIG = 8

    @property
    def label(self) -> str:
        return self.name.lower()


LABELS = np.array([c.label for c in RegionClass], dtype=object)
GENE_COLUMNS = ("gene_symbol", "chrom", "start", "end")  # of store.genes.GENE_SCHEMA
FEATURE_COLUMNS = ("feature", "chrom", "start", "end")  # of store.transcripts.FEATURE_SCHEMA
_SHIFT = np.int64(32)

Int = npt.NDArray[np.int64]


def _contig_codes(chrom: Sequence[str] | npt.NDArray[np.generic] | pa.Array | pa.ChunkedArray) -> Int:
    """CONTIG_ORDER index per value (any naming: 1, chr1, NC_000001.11), -1 for other contigs."""
    arr = chrom.combine_chunks() if isinstance(chrom, pa.ChunkedArray) else chrom
    if not isinstance(arr, pa.Array):
        arr = pa.array(np.asarray(arr, dtype=object), type=pa.string())
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    encoded = pc.dictionary_encode(pc.fill_null(arr.cast(pa.string()), ""))
    lookup = np.array(
        [CONTIG_ORDER.get(canonical_contig(str(n)) or "", -1) for n in encoded.dictionary.to_pylist()] or [-1],
        dtype=np.int64,
    )
    return np.asarray(lookup[np.asarray(encoded.indices.to_numpy(zero_copy_only=False))], dtype=np.int64)


def _keys(codes: Int, pos: npt.NDArray[np.integer]) -> Int:
    return (codes << _SHIFT) + np.asarray(pos, dtype=np.int64)


def _merge(starts: Int, ends: Int) -> tuple[Int, Int]:
    """Sorted disjoint runs covering the union of [start, end] intervals (adjacent ones joined)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.ones(len(s), dtype=np.bool_)
    new[1:] = s[1:] > reach[:-1] + 1
    first = np.flatnonzero(new)
    return s[first], np.maximum.reduceat(e, first)


def _columns(table: pa.Table, wanted: Sequence[str], what: str) -> None:
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise ValueError(f"the {what} table lacks column(s) {', '.join(missing)}; expected {', '.join(wanted)}")


@dataclass(frozen=True, eq=False)
class RegionAnnotation:
    """Per queried position: its most severe class, every class (bits), and the genes it lies in."""

    region_class: npt.NDArray[np.int8]
    flags: npt.NDArray[np.uint16]  # bit (1 << RegionClass) for each class that applies
    gene_offsets: Int  # genes of query i: symbols[gene_rows[gene_offsets[i]:gene_offsets[i + 1]]]
    gene_rows: npt.NDArray[np.int32]  # rows of the genes table the index was built from
    symbols: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.region_class)

    def labels(self) -> npt.NDArray[np.object_]:
        return np.asarray(LABELS[self.region_class], dtype=object)

    def has(self, cls: RegionClass) -> npt.NDArray[np.bool_]:
        return np.asarray((self.flags & np.uint16(1 << cls)) != 0, dtype=np.bool_)

    def genes(self, i: int) -> tuple[str, ...]:
        rows = self.gene_rows[self.gene_offsets[i] : self.gene_offsets[i + 1]]
        return tuple(str(s) for s in self.symbols[rows])

    def gene_lists(self) -> pa.ListArray:
        """Overlapping gene symbols per position, as an Arrow list column (for a results table)."""
        values = pa.array(self.symbols, type=pa.string()).take(pa.array(self.gene_rows))
        return pa.ListArray.from_arrays(pa.array(self.gene_offsets.astype(np.int32)), values)


# Most severe class of every combination of class bits (the lowest set bit).
_MOST_SEVERE = np.array(
    [next((c for c in RegionClass if v & (1 << c)), RegionClass.UNKNOWN_CONTIG) for v in range(1 << len(RegionClass))],
    dtype=np.int8,
)


@dataclass(frozen=True, eq=False)
class RegionIndex:
    """Gene models prepared for classing batches of positions (build once per assembly).

    The genome (genome-wide keys) is cut into segments wherever any class run or any gene starts
    or ends; each segment holds its class bits and its genes, so a batch of positions costs one
    binary search (two for spans) plus gathers.
    """

    segment_bounds: Int  # segment k covers keys segment_bounds[k] .. segment_bounds[k + 1] - 1
    segment_flags: npt.NDArray[np.uint16]
    segment_offsets: Int  # genes of segment k: segment_genes[segment_offsets[k]:segment_offsets[k + 1]]
    segment_genes: npt.NDArray[np.int32]
    symbols: npt.NDArray[np.object_]
    has_features: bool

    @classmethod
    def build(
        cls,
        genes: pa.Table,
        features: pa.Table | None = None,
        *,
        splice_site: int = 2,
        splice_region_intron: int = 8,
        splice_region_exon: int = 3,
    ) -> RegionIndex:
        """Index `genes` (and `features`, if given). The splice widths default to VEP's definitions."""
        if not 0 <= splice_site <= splice_region_intron or splice_region_exon < 0:
            raise ValueError(
                "splice widths must satisfy 0 ≤ splice_site ≤ splice_region_intron, splice_region_exon ≥ 0"
            )
        _columns(genes, GENE_COLUMNS, "genes")
        g_code = _contig_codes(genes["chrom"])
        g_start = np.asarray(genes["start"].to_numpy(), dtype=np.int64)
        g_end = np.asarray(genes["end"].to_numpy(), dtype=np.int64)
        known = g_code >= 0
        g_rows = np.flatnonzero(known).astype(np.int32)
        g_lo, g_hi = _keys(g_code[known], g_start[known]), _keys(g_code[known], g_end[known])
        symbols = np.asarray(genes["gene_symbol"].to_numpy(zero_copy_only=False), dtype=object)

        empty = np.zeros(0, dtype=np.int64)
        per_class: dict[RegionClass, tuple[Int, Int]] = {c: (empty, empty) for c in RegionClass}
        per_class[RegionClass.GENIC] = (g_lo, g_hi)
        if features is not None:
            _columns(features, FEATURE_COLUMNS, "features")
            code = _contig_codes(features["chrom"])
            kind = features["feature"]
            ok = code >= 0
            lo = _keys(code, np.asarray(features["start"].to_numpy(), dtype=np.int64))
            hi = _keys(code, np.asarray(features["end"].to_numpy(), dtype=np.int64))

            def pick(*names: str) -> tuple[Int, Int]:
                mask = ok & np.asarray(pc.is_in(kind, value_set=pa.array(names)).to_numpy(zero_copy_only=False))
                return lo[mask], hi[mask]

            per_class[RegionClass.CODING_EXON] = pick("cds", "stop_codon")
            per_class[RegionClass.UTR] = pick("utr")
            per_class[RegionClass.NONCODING_EXON] = pick("exon")
            i_lo, i_hi = pick("intron")
            per_class[RegionClass.INTRON] = (i_lo, i_hi)
            site = splice_site - 1
            inner = splice_region_intron - 1
            if splice_site > 0:
                per_class[RegionClass.SPLICE_SITE] = (
                    np.concatenate([i_lo, np.maximum(i_hi - site, i_lo)]),
                    np.concatenate([np.minimum(i_lo + site, i_hi), i_hi]),
                )
            # Intronic splice region (bases splice_site+1 .. splice_region_intron from each end),
            # clipped to the intron, then the exon bases on either side of it.
            a_lo, a_hi = i_lo + splice_site, np.minimum(i_lo + inner, i_hi)
            b_lo, b_hi = np.maximum(i_hi - inner, i_lo), i_hi - splice_site
            left_ok, right_ok = a_lo <= a_hi, b_lo <= b_hi
            per_class[RegionClass.SPLICE_REGION] = (
                np.concatenate([a_lo[left_ok], b_lo[right_ok], i_lo - splice_region_exon, i_hi + 1]),
                np.concatenate([a_hi[left_ok], b_hi[right_ok], i_lo - 1, i_hi + splice_region_exon]),
            )
        runs = {c: _merge(*per_class[c]) for c in RegionClass if c <= RegionClass.GENIC}
        bounds = distinct_sorted(
            np.concatenate([g_lo, g_hi + 1, *(edge for s, e in runs.values() for edge in (s, e + 1))])
        )
        flags = np.zeros(len(bounds), dtype=np.uint16)
        for c, (s, e) in runs.items():
            size = len(bounds) + 1
            depth = np.bincount(np.searchsorted(bounds, s), minlength=size) - np.bincount(
                np.searchsorted(bounds, e + 1), minlength=size
            )
            flags |= np.where(np.cumsum(depth)[:-1] > 0, np.uint16(1 << c), np.uint16(0))

        # Genes per segment: each gene covers the segments from its start to the one before its end + 1.
        first = np.searchsorted(bounds, g_lo)
        counts = np.searchsorted(bounds, g_hi + 1) - first
        seg_of_pair = np.repeat(first, counts) + _ramp(counts)
        order = np.argsort(seg_of_pair, kind="stable")
        segment_genes = np.repeat(g_rows, counts)[order].astype(np.int32)
        per_segment = np.bincount(seg_of_pair, minlength=len(bounds))
        offsets = np.concatenate([[0], np.cumsum(per_segment)]).astype(np.int64)
        return cls(bounds, flags, offsets, segment_genes, symbols, features is not None)

    def classify(
        self,
        chrom: Sequence[str] | npt.NDArray[np.generic] | pa.Array | pa.ChunkedArray,
        start: npt.NDArray[np.integer] | Sequence[int],
        end: npt.NDArray[np.integer] | Sequence[int] | None = None,
    ) -> RegionAnnotation:
        """Class each position (or span [start, end], 1-based inclusive: a deletion's reference bases).

        A span gets every class any of its bases has, and the genes any of its bases lies in.
        Positions in VCF order (sorted) are fastest; any order works.
        """
        codes = _contig_codes(chrom)
        pos = np.asarray(start, dtype=np.int64)
        stop = pos if end is None else np.maximum(np.asarray(end, dtype=np.int64), pos)
        if not len(codes) == len(pos) == len(stop):
            raise ValueError(f"chrom, start and end have {len(codes)}, {len(pos)} and {len(stop)} values")
        n = len(pos)
        known = codes >= 0
        seg_lo = _segment(self.segment_bounds, _keys(np.maximum(codes, 0), pos))
        seg_hi = seg_lo if end is None else _segment(self.segment_bounds, _keys(np.maximum(codes, 0), stop))
        n_seg = np.where(known & (seg_hi >= 0), seg_hi - np.maximum(seg_lo, 0) + 1, 0)
        seg_lo = np.maximum(seg_lo, 0)

        single = n_seg == 1
        flags = np.zeros(n, dtype=np.uint16)
        if len(self.segment_flags):
            flags[single] = self.segment_flags[seg_lo[single]]
        spanning = np.flatnonzero(n_seg > 1)
        if len(spanning):
            counts = n_seg[spanning]
            segments = np.repeat(seg_lo[spanning], counts) + _ramp(counts)
            starts = np.cumsum(counts) - counts
            flags[spanning] = np.bitwise_or.reduceat(self.segment_flags[segments], starts)
        flags = np.where(known & (flags == 0), np.uint16(1 << RegionClass.INTERGENIC), flags)
        flags = np.where(known, flags, np.uint16(1 << RegionClass.UNKNOWN_CONTIG)).astype(np.uint16)
        offsets, rows = self._genes(seg_lo, n_seg)
        return RegionAnnotation(_MOST_SEVERE[flags], flags, offsets, rows, self.symbols)

    def _genes(self, seg_lo: Int, n_seg: Int) -> tuple[Int, npt.NDArray[np.int32]]:
        n = len(seg_lo)
        query = np.repeat(np.arange(n, dtype=np.int64), n_seg)
        segment = np.repeat(seg_lo, n_seg) + _ramp(n_seg)
        per = self.segment_offsets[segment + 1] - self.segment_offsets[segment]
        query = np.repeat(query, per)
        rows = self.segment_genes[np.repeat(self.segment_offsets[segment], per) + _ramp(per)]
        if (n_seg > 1).any():  # spans over several segments: a gene may be found twice
            spanning = n_seg[query] > 1
            width = np.int64(len(self.symbols) + 1)
            key = distinct_sorted(query[spanning] * width + rows[spanning])
            query = np.concatenate([query[~spanning], key // width])
            rows = np.concatenate([rows[~spanning], (key % width).astype(np.int32)])
            order = np.argsort(query, kind="stable")
            query, rows = query[order], rows[order]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(query, minlength=n))]).astype(np.int64)
        return offsets, rows.astype(np.int32)


def _segment(bounds: Int, keys: Int) -> Int:
    """The segment each key falls in (-1 before the first bound).

    numpy's binary search is ~20× faster on sorted keys (a VCF's positions already are), so
    unsorted keys are sorted first and the answers put back in the caller's order.
    """
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        order = np.argsort(keys)
        out = np.empty(len(keys), dtype=np.int64)
        out[order] = np.searchsorted(bounds, keys[order], side="right") - 1
        return out
    found: Int = np.searchsorted(bounds, keys, side="right").astype(np.int64) - 1
    return found


def _ramp(counts: npt.NDArray[np.integer]) -> Int:
    """0, 1, .., c-1 for each count c, concatenated (the position within each repeated group)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    ramp: Int = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    return ramp
