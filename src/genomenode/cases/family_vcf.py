"""A family's variants from one VCF, without a database: the one-shot `case analyse --vcf`.

The VCF goes through the same parse → build steps as an ingest (`ingest.vcf`, `ingest.build`:
multi-allelic records split, alleles trimmed, per-allele INFO kept as JSON), so a case read from a
file and a case read from the national database see the same alleles. The builder's sparse calls
(a row per non-reference or missing call) become dense family matrices here: one row per allele
some member carries, one column per member; an absent call is hom-ref, as a variant-only VCF means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.domain.pedigree import Pedigree
from genomenode.domain.samples import Sex
from genomenode.errors import AssemblyError, CaseError, listing
from genomenode.ingest.build import FileBuilder, FileLayout
from genomenode.ingest.vcf import VcfHeader, iter_records, read_header

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
) -> FamilyVariants:
    """The family's alleles from `path`; members missing from the VCF are left out (and said so by
    the pedigree's structure later), VCF samples outside the family are ignored."""
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
    a1 = rows["call_allele1"].to_numpy()
    a2 = rows["call_allele2"].to_numpy()
    alleles = np.zeros((n, m, 2), np.int8)  # no row: hom-ref, as a variant-only VCF means
    alleles[row, col, 0] = a1
    alleles[row, col, 1] = a2
    genotypes = (alleles == 1).sum(axis=2, dtype=np.int8)
    genotypes[(alleles == -1).any(axis=2)] = MISSING
    gq = np.full((n, m), -1, np.int32)
    dp = np.full((n, m), -1, np.int32)
    ad = np.full((n, m, 2), -1, np.int32)
    gq[row, col] = rows["call_gq"].to_numpy()
    dp[row, col] = rows["call_dp"].to_numpy()
    ad[row, col, 0] = rows["call_ad_ref"].to_numpy()
    ad[row, col, 1] = rows["call_ad_alt"].to_numpy()
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
