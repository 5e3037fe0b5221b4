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
VARIANT_COLUMNS = ("chrom", "pos", "ref", "alt", "variant_rsid", "variant_qual", "variant_filter", "variant_info")


@dataclass(frozen=True)
class FamilyVariants:
    """The alleles any family member carries (or has a no-call at), as columns.

    `genotypes[i, j]` is the number of copies of allele i's ALT that member j carries (0, 1, 2;
    MISSING for a no-call); the quality matrices use -1 for a missing value.
    """

    assembly: Assembly
    members: tuple[str, ...]
    variants: pa.Table  # VARIANT_COLUMNS, one row per allele, in genome order
    genotypes: npt.NDArray[np.int8]
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
        _dense(tables.variants, tables.calls, wanted)
        for tables in FileBuilder(header, layout).build(iter_records(path, header), on_record=counter)
    ]
    pieces = [p for p in pieces if p[0].num_rows]
    if not pieces:
        empty = _empty(len(members))
        return FamilyVariants(
            assembly, tuple(members), *empty, info_descriptions=header.info_descriptions, source=str(path)
        )
    variants = pa.concat_tables([p[0] for p in pieces])
    return FamilyVariants(
        assembly,
        tuple(members),
        variants,
        np.concatenate([p[1] for p in pieces]),
        np.concatenate([p[2] for p in pieces]),
        np.concatenate([p[3] for p in pieces]),
        np.concatenate([p[4] for p in pieces]),
        info_descriptions=header.info_descriptions,
        source=str(path),
    )


Dense = tuple[pa.Table, npt.NDArray[np.int8], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]


def _empty(m: int) -> Dense:
    table = pa.table({c: pa.array([], pa.string()) for c in VARIANT_COLUMNS})
    return (
        table,
        np.zeros((0, m), np.int8),
        np.zeros((0, m), np.int32),
        np.zeros((0, m), np.int32),
        np.zeros((0, m, 2), np.int32),
    )


def _dense(variants: pa.Table, calls: pa.Table, wanted: Sequence[int] | npt.NDArray[np.int32]) -> Dense:
    """One chromosome's sparse calls of the `wanted` VCF columns as dense family matrices, keeping
    the alleles at least one of them carries or has a no-call at."""
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
    copies = (a1 == 1).astype(np.int8) + (a2 == 1).astype(np.int8)
    copies[(a1 == -1) | (a2 == -1)] = MISSING
    genotypes = np.zeros((n, m), np.int8)
    genotypes[row, col] = copies
    gq = np.full((n, m), -1, np.int32)
    dp = np.full((n, m), -1, np.int32)
    ad = np.full((n, m, 2), -1, np.int32)
    gq[row, col] = rows["call_gq"].to_numpy()
    dp[row, col] = rows["call_dp"].to_numpy()
    ad[row, col, 0] = rows["call_ad_ref"].to_numpy()
    ad[row, col, 1] = rows["call_ad_alt"].to_numpy()
    keep = np.zeros(n, np.bool_)
    keep[row[copies != 0]] = True
    index = np.flatnonzero(keep)
    table = variants.select(list(VARIANT_COLUMNS)).take(pa.array(index))
    return table, genotypes[index], gq[index], dp[index], ad[index]
