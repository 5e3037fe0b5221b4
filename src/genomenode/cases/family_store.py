"""A family's variants from the national database: `FamilyVariants` built from stored calls.

The same dense matrices as the one-shot reader (`family_vcf._dense`): one row per allele some
member carries or has a no-call at, one column per member; a member with no stored row for an
allele is hom-ref, as the store's sparse calls mean. Population counts are the nation-wide ones
(`variant_stats`, scope '*', stratum 'all') less the family's own alleles, so a family never hides
its own variant: a de novo seen in the proband alone is as rare as it is outside the family.
Members whose counts the statistics already leave out (consent withdrawn) are not subtracted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from genomenode.cases.family_vcf import VARIANT_COLUMNS, VARIANT_SCHEMA, FamilyVariants, scatter_calls
from genomenode.domain.assembly import Assembly
from genomenode.errors import CaseError, listing
from genomenode.query.family import FamilyCalls


def family_variants(
    found: FamilyCalls,
    *,
    assembly: Assembly,
    members: Sequence[tuple[str, int]],
    counted: Sequence[bool] | None = None,
    source: str = "",
) -> FamilyVariants:
    """`members`: (member id, catalog sample id) in the order the matrices' columns take;
    `counted`: per member, whether their calls are in the national counts (default: all are)."""
    if not members:
        raise CaseError("a case needs at least one member with a sample")
    m = len(members)
    codes = np.array([code for _, code in members], np.int64)
    if len(set(codes.tolist())) != m:
        raise CaseError(f"two members share a sample ({listing([name for name, _ in members])})")
    counted_mask = np.ones(m, np.bool_) if counted is None else np.asarray(counted, np.bool_)
    calls = found.calls
    rows = calls["allele_row"].to_numpy().astype(np.int64)
    n = int(rows.max()) + 1 if rows.size else 0
    order = np.argsort(codes)
    sample = calls["sample"].to_numpy().astype(np.int64)
    at = np.searchsorted(codes[order], sample)
    at = np.clip(at, 0, m - 1)
    if rows.size and not np.array_equal(codes[order][at], sample):
        raise CaseError("the store returned calls of samples outside the family")  # a bug, not input
    col = order[at]
    genotypes, alleles, gq, dp, ad = scatter_calls(calls, rows, col, n, m)  # no row: hom-ref
    first = np.flatnonzero(np.diff(rows, prepend=-1) != 0)  # one row per allele: rows come sorted
    national_ac = calls["national_ac"].to_numpy()[first].astype(np.int64)
    national_an = calls["national_an"].to_numpy()[first].astype(np.int64)
    own_ac = (np.maximum(genotypes, 0) * counted_mask).sum(axis=1)
    own_an = ((alleles >= 0).sum(axis=2) * counted_mask).sum(axis=1)
    cohort_ac = np.maximum(national_ac - own_ac, 0).astype(np.int32)
    cohort_an = np.maximum(national_an - own_an, 0).astype(np.int32)
    keep = np.flatnonzero((genotypes != 0).any(axis=1))
    variants = calls.take(pa.array(first)).select(list(VARIANT_COLUMNS)).cast(VARIANT_SCHEMA)
    return FamilyVariants(
        assembly=assembly,
        members=tuple(name for name, _ in members),
        variants=variants.take(pa.array(keep)),
        genotypes=genotypes[keep],
        alleles=alleles[keep],
        cohort_ac=cohort_ac[keep],
        cohort_an=cohort_an[keep],
        gq=gq[keep],
        dp=dp[keep],
        ad=ad[keep],
        info_descriptions=dict(found.info_descriptions),
        source=source,
    )
