"""A family's variants from one VCF, without a database: the one-shot `case analyse --vcf`.

The VCF goes through the same parse → build steps as an ingest (`ingest.vcf`, `ingest.build`:
multi-allelic records split, alleles trimmed, per-allele INFO kept as JSON), so a case read from a
file and a case read from the national database see the same alleles. The builder's sparse calls
(a row per non-reference or missing call) become dense family matrices here: one row per allele
some member carries, one column per member; an absent call is hom-ref, as a variant-only VCF means.

A genome has millions of records and the analysis needs a few tens of thousands: the alleles the
proband carries in or near an exon. So by default the file is read in one lean pass
(`ingest.vcf.scan_sites`: site and genotypes, a few µs a record, split over two processes for an
indexed file), and only records the proband carries whose span lies within 8 bp of an exon (any
class of `analysis._KEEP_CLASSES`) go through the builder, while htslib still holds them. The
totals and the family's genotypes at every record (for the Mendelian error rate) come from the
lean pass (`FamilySelection`). `near_exons_only=False` builds every record, as before.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.cases import knowledge
from genomenode.domain.assembly import Assembly, canonical_contig, contig_lengths
from genomenode.domain.pedigree import Pedigree
from genomenode.domain.samples import Sex
from genomenode.errors import AssemblyError, CaseError, listing
from genomenode.ingest.build import FileBuilder, FileLayout
from genomenode.ingest.vcf import (
    SiteScan,
    VcfHeader,
    indexed_spans,
    iter_records,
    read_header,
    scan_sites,
    split_spans,
)
from genomenode.interpret.raredisease.inheritance import chromosome_classes
from genomenode.interpret.raredisease.regions import RegionClass

MISSING = -1
VARIANT_SCHEMA = pa.schema(
    [
        ("chrom", pa.string()),
        ("pos", pa.int32()),
        ("ref", pa.string()),
        ("alt", pa.string()),
        ("variant_rsid", pa.string()),
        ("variant_qual", pa.float32()),
        ("variant_filter", pa.string()),
        ("variant_info", pa.string()),
        ("source_pos", pa.int32()),  # the record as written, which CSQ/BCSQ/ANN annotations refer to
        ("source_ref", pa.string()),
        ("source_alts", pa.string()),
        ("source_allele", pa.int8()),
    ]
)
VARIANT_COLUMNS = tuple(VARIANT_SCHEMA.names)
# the classes an allele must lie in for the analysis to look at it (within 8 bp of an exon)
NEAR_EXON_CLASSES = (
    RegionClass.SPLICE_SITE,
    RegionClass.CODING_EXON,
    RegionClass.SPLICE_REGION,
    RegionClass.UTR,
    RegionClass.NONCODING_EXON,
)
_NEAR_EXON_BITS = np.uint16(sum(1 << int(c) for c in NEAR_EXON_CLASSES))
SCAN_WORKERS = 2
PARALLEL_MIN_BYTES = 512 << 10  # smaller files are scanned in this process: forking costs more than it saves


@dataclass(frozen=True)
class FamilySelection:
    """What the lean pass saw of the whole file, when `FamilyVariants` holds only the alleles the
    proband carries near exons (and their records' other alleles).

    `alleles` and `proband_carries` count alleles as the full build would (ALTs split, non-variant
    ALTs and contigs off chr1..22/X/Y/M left out; an allele twice in one record after trimming
    counts twice here, once there). `record_alleles` are the family's calls (allele indices,
    records × members × 2) at every record where a member has a non-reference or missing allele,
    with the records' `ChromClass`: what the Mendelian error rate is computed on.
    """

    proband: str
    records: int
    alleles: int
    proband_carries: int
    record_alleles: npt.NDArray[np.int8]
    record_class: npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FamilyVariants:
    """The alleles any family member carries (or has a no-call at), as columns.

    `genotypes[i, j]` is the number of copies of allele i's ALT that member j carries (0, 1, 2;
    MISSING for a no-call); `alleles[i, j]` the call itself relative to that ALT (0 ref, 1 this
    ALT, 2 another ALT, -1 missing, -2 absent: a haploid call); the quality matrices use -1 for a
    missing value. Cohort counts are over the VCF's other samples (the family left out).
    """

    assembly: Assembly
    members: tuple[str, ...]
    variants: pa.Table  # VARIANT_COLUMNS, one row per allele, in genome order
    genotypes: npt.NDArray[np.int8]
    alleles: npt.NDArray[np.int8]  # alleles × members × 2
    cohort_ac: npt.NDArray[np.int32]
    cohort_an: npt.NDArray[np.int32]
    gq: npt.NDArray[np.int32]
    dp: npt.NDArray[np.int32]
    ad: npt.NDArray[np.int32]  # alleles × members × (ref, alt) reads
    info_descriptions: dict[str, str] = field(default_factory=dict)
    source: str = ""
    selection: FamilySelection | None = None  # set when only the proband's alleles near exons were built

    @property
    def n(self) -> int:
        return int(self.variants.num_rows)


def guess_assembly(header: VcfHeader) -> Assembly | None:
    """The build the header's contig lengths name (chr1's length differs between them), if any."""
    lengths = dict(header.contigs)
    for name in ("1", "chr1"):
        length = lengths.get(name)
        if length:
            for assembly in Assembly:
                if contig_lengths(assembly).get("chr1") == length:
                    return assembly
    return None


def read_family_vcf(
    path: Path,
    pedigree: Pedigree,
    *,
    assembly: Assembly | None = None,
    on_record: Callable[[int], None] | None = None,
    proband: str | None = None,
    near_exons_only: bool = True,
    workers: int = SCAN_WORKERS,
) -> FamilyVariants:
    """The family's alleles from `path`; members missing from the VCF are left out (and said so by
    the pedigree's structure later), VCF samples outside the family are ignored.

    With `near_exons_only` (the default) only the records `proband` (default: the pedigree's)
    carries near exons are built (see the module docstring); `on_record` then hears the record
    count after every chunk rather than after every record.
    """
    header = read_header(path)
    found = guess_assembly(header)
    if assembly is None:
        if found is None:
            raise AssemblyError(
                f"{path}: the header's contig lengths do not say which build it is; give --assembly GRCh38 or GRCh37"
            )
        assembly = found
    elif found is not None and found is not assembly:
        raise AssemblyError(f"{path}: --assembly {assembly.value}, but the header's contig lengths are {found.value}'s")
    members = [m for m in pedigree.ids if m in header.samples]
    if not members:
        raise CaseError(
            f"{path}: none of the family ({listing(list(pedigree.ids))}) is a sample of this VCF "
            f"(its samples: {listing(list(header.samples))}); the PED's individual ids must be the VCF's sample names"
        )
    column_of = {name: i for i, name in enumerate(header.samples)}
    sexes = [Sex.UNKNOWN] * header.n_samples
    for m in members:
        sexes[column_of[m]] = pedigree.member(m).sex
    layout = FileLayout(
        file_id=0,
        assembly=assembly,
        sample_ids=np.arange(header.n_samples, dtype=np.int32),
        group_of_sample=np.zeros(header.n_samples, np.int32),
        group_ids=np.zeros(1, np.int32),
        sexes=sexes,
    )
    wanted = np.array([column_of[m] for m in members], np.int32)
    selection: FamilySelection | None = None
    if near_exons_only:
        chosen = proband or pedigree.default_proband(genotyped=members)
        if chosen not in members:
            raise CaseError(
                f"the proband {chosen} has no genotypes in {path} (genotyped: {listing(members)}); "
                "give --proband one of them"
            )
        job = _ScanJob(path, header, layout, wanted, members.index(chosen), None)
        pieces, selection = _scan_selected(job, chosen, workers=workers, on_record=on_record)
    else:
        counter = (lambda rec: on_record(rec.index)) if on_record is not None else None
        pieces = [
            _dense(tables.variants, tables.calls, tables.site_counts, wanted)
            for tables in FileBuilder(header, layout).build(iter_records(path, header), on_record=counter)
        ]
    pieces = [p for p in pieces if p.variants.num_rows] or [_empty(len(members))]

    def joined(name: str) -> Any:
        return np.concatenate([getattr(p, name) for p in pieces])

    return FamilyVariants(
        assembly,
        tuple(members),
        pa.concat_tables([p.variants for p in pieces]),
        genotypes=joined("genotypes"),
        alleles=joined("alleles"),
        cohort_ac=joined("cohort_ac"),
        cohort_an=joined("cohort_an"),
        gq=joined("gq"),
        dp=joined("dp"),
        ad=joined("ad"),
        info_descriptions=header.info_descriptions,
        source=str(path),
        selection=selection,
    )


@dataclass(frozen=True)
class _ScanJob:
    """One process's share of the lean pass (picklable: it crosses to a forked worker)."""

    path: Path
    header: VcfHeader
    layout: FileLayout
    wanted: npt.NDArray[np.int32]  # the members' VCF columns
    proband: int  # index into `wanted`
    regions: list[tuple[str, int, int]] | None


@dataclass(frozen=True)
class _ScanResult:
    records: int
    alleles: int
    proband_carries: int
    record_alleles: npt.NDArray[np.int8]
    record_class: npt.NDArray[np.uint8]
    dense: list[tuple[str, _Dense]]  # per chromosome, in the piece's order


def _scan_selected(
    job: _ScanJob, proband: str, *, workers: int, on_record: Callable[[int], None] | None
) -> tuple[list[_Dense], FamilySelection]:
    """The lean pass over the whole file (split by position over `workers` processes when the
    file is indexed and large), and the dense matrices of the records it kept, in genome order."""
    knowledge.region_index(job.layout.assembly)  # built once here, inherited by forked workers
    regions = None
    if workers > 1 and job.path.stat().st_size >= PARALLEL_MIN_BYTES:
        spans = indexed_spans(job.path, job.header)
        regions = split_spans(spans, workers) if spans else None
    if regions is None or len(regions) < 2:
        results = [_scan_piece(job, on_record)]
    else:
        jobs = [_ScanJob(job.path, job.header, job.layout, job.wanted, job.proband, r) for r in regions]
        # fork before this process starts any thread (htslib's included): a child forked mid-lock can hang
        with ProcessPoolExecutor(max_workers=len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_scan_piece, jobs))
        if on_record is not None:
            on_record(sum(r.records for r in results))
    # piece w holds the w-th stretch of every contig: by contig, then piece, is genome order
    order = {canonical_contig(name) or name: i for i, (name, _) in enumerate(job.header.contigs)}
    tagged = [(order.get(chrom, len(order)), w, d) for w, r in enumerate(results) for chrom, d in r.dense]
    dense = [d for _, _, d in sorted(tagged, key=lambda t: (t[0], t[1]))]
    selection = FamilySelection(
        proband,
        records=sum(r.records for r in results),
        alleles=sum(r.alleles for r in results),
        proband_carries=sum(r.proband_carries for r in results),
        record_alleles=np.concatenate([r.record_alleles for r in results]),
        record_class=np.concatenate([r.record_class for r in results]),
    )
    return dense, selection


def _scan_piece(job: _ScanJob, on_record: Callable[[int], None] | None = None) -> _ScanResult:
    """Scan one piece, keep the records near exons the proband carries, build just those."""
    regions = knowledge.region_index(job.layout.assembly)
    p = job.proband
    progress = 0

    def keep(chunk: SiteScan) -> npt.NDArray[np.bool_]:
        nonlocal progress
        carried = np.flatnonzero((chunk.alleles[:, p, :] > 0).any(axis=1))
        chosen = np.zeros(chunk.n, np.bool_)
        if carried.size:
            names = np.asarray(chunk.contigs, dtype=object)[chunk.contig[carried]]
            found = regions.classify(names, chunk.pos[carried], chunk.end[carried])
            chosen[carried] = (found.flags & _NEAR_EXON_BITS) != 0
        progress += chunk.n
        if on_record is not None:
            on_record(progress)
        return chosen

    # one decompression thread per process when two processes share the cores
    scan = scan_sites(
        job.path,
        job.header,
        samples=job.wanted.tolist(),
        regions=job.regions,
        keep=keep,
        threads=1 if job.regions else 2,
    )
    canonical = np.array([canonical_contig(c) is not None for c in scan.contigs] or [False], np.bool_)[scan.contig]
    family = scan.alleles
    # ALTs as bits 1..63 (allele 0 and anything past 63 set no bit); the real ALTs of each record
    bits = np.zeros(scan.n, np.uint64)
    proband_bits = np.zeros(scan.n, np.uint64)
    for j in range(family.shape[1]):
        for k in range(2):
            a = family[:, j, k].astype(np.int64)
            bit = np.where((a > 0) & (a < 64), np.left_shift(np.uint64(1), np.clip(a, 0, 63).astype(np.uint64)), 0)
            bits |= bit.astype(np.uint64)
            if j == p:
                proband_bits |= bit.astype(np.uint64)
    n_alts = np.minimum(scan.n_alts.astype(np.uint64), np.uint64(63))
    real = (np.left_shift(np.uint64(1), n_alts) - np.uint64(1)) << np.uint64(1)
    real &= ~(scan.non_variant.astype(np.uint64) << np.uint64(1))
    missing = (family == -1).any(axis=(1, 2))
    family_alleles = np.where(missing, np.bitwise_count(real), np.bitwise_count(bits & real))
    tested = canonical & (missing | (family > 0).any(axis=(1, 2)))
    names = np.asarray(scan.contigs, dtype=object)[scan.contig[tested]] if scan.n else np.zeros(0, object)
    dense = [
        (tables.chrom, _dense(tables.variants, tables.calls, tables.site_counts, job.wanted))
        for tables in FileBuilder(job.header, job.layout).build(scan.records)
    ]
    return _ScanResult(
        records=scan.n,
        alleles=int(family_alleles[canonical].sum()),
        proband_carries=int(np.bitwise_count(proband_bits & real)[canonical].sum()),
        record_alleles=np.clip(family[tested], -2, 127).astype(np.int8),
        record_class=chromosome_classes(job.layout.assembly, names, scan.pos[tested]),
        dense=dense,
    )


@dataclass(frozen=True)
class _Dense:
    variants: pa.Table
    genotypes: npt.NDArray[np.int8]
    alleles: npt.NDArray[np.int8]
    cohort_ac: npt.NDArray[np.int32]
    cohort_an: npt.NDArray[np.int32]
    gq: npt.NDArray[np.int32]
    dp: npt.NDArray[np.int32]
    ad: npt.NDArray[np.int32]


def _empty(m: int) -> _Dense:
    table = VARIANT_SCHEMA.empty_table()
    none = np.zeros(0, np.int32)
    return _Dense(
        table,
        np.zeros((0, m), np.int8),
        np.zeros((0, m, 2), np.int8),
        none,
        none,
        np.zeros((0, m), np.int32),
        np.zeros((0, m), np.int32),
        np.zeros((0, m, 2), np.int32),
    )


def scatter_calls(
    calls: pa.Table, row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], n: int, m: int
) -> tuple[
    npt.NDArray[np.int8], npt.NDArray[np.int8], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]
]:
    """Sparse calls (the store's `calls` columns; call i is allele `row[i]` of member `col[i]`) as
    dense family matrices: ALT copies, the calls themselves, GQ, DP and AD. A (allele, member)
    without a call is hom-ref with its quality unknown (-1), as the sparse store means it."""
    alleles = np.zeros((n, m, 2), np.int8)
    alleles[row, col, 0] = calls["call_allele1"].to_numpy()
    alleles[row, col, 1] = calls["call_allele2"].to_numpy()
    genotypes = (alleles == 1).sum(axis=2, dtype=np.int8)
    genotypes[(alleles == -1).any(axis=2)] = MISSING
    gq = np.full((n, m), -1, np.int32)
    dp = np.full((n, m), -1, np.int32)
    ad = np.full((n, m, 2), -1, np.int32)
    gq[row, col] = calls["call_gq"].to_numpy()
    dp[row, col] = calls["call_dp"].to_numpy()
    ad[row, col, 0] = calls["call_ad_ref"].to_numpy()
    ad[row, col, 1] = calls["call_ad_alt"].to_numpy()
    return genotypes, alleles, gq, dp, ad


def _dense(
    variants: pa.Table, calls: pa.Table, sites: pa.Table, wanted: Sequence[int] | npt.NDArray[np.int32]
) -> _Dense:
    """One chromosome's sparse calls of the `wanted` VCF columns as dense family matrices, keeping
    the alleles at least one of them carries or has a no-call at; the file's other samples give
    the cohort counts (the builder's site counts less the family's own alleles)."""
    m = len(wanted)
    n = variants.num_rows
    member_of = np.full(max(int(np.max(wanted)) + 1, 1), -1, np.int64)
    member_of[np.asarray(wanted)] = np.arange(m)
    sample = calls["sample"].to_numpy()
    in_family = np.zeros(sample.shape, np.bool_)
    known = sample < len(member_of)
    in_family[known] = member_of[sample[known]] >= 0
    rows = calls.filter(pa.array(in_family))
    row = rows["ref"].combine_chunks().indices.to_numpy().astype(np.int64)  # the allele's row in `variants`
    col = member_of[rows["sample"].to_numpy()]
    genotypes, alleles, gq, dp, ad = scatter_calls(rows, row, col, n, m)  # no row: hom-ref, as a variant-only VCF means
    site_ac = np.zeros(n, np.int64)
    site_an = np.zeros(n, np.int64)
    site_row = sites["ref"].combine_chunks().indices.to_numpy().astype(np.int64)
    np.add.at(site_ac, site_row, sites["ac"].to_numpy())
    np.add.at(site_an, site_row, sites["an"].to_numpy())
    cohort_ac = np.maximum(site_ac - np.maximum(genotypes, 0).sum(axis=1), 0).astype(np.int32)
    cohort_an = np.maximum(site_an - (alleles >= 0).sum(axis=(1, 2)), 0).astype(np.int32)
    keep = np.flatnonzero((genotypes != 0).any(axis=1))
    return _Dense(
        variants.select(list(VARIANT_COLUMNS)).take(pa.array(keep)).cast(VARIANT_SCHEMA),
        genotypes[keep],
        alleles[keep],
        cohort_ac[keep],
        cohort_an[keep],
        gq[keep],
        dp[keep],
        ad[keep],
    )
