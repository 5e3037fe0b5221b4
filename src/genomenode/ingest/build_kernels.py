"""Vectorised counting over a chunk of records: arrays of records × samples × ploidy, no Python loop.

Genotype codes are htslib's: allele index ≥ 0, -1 missing, -2 absent (a haploid call padded to
the chunk's ploidy). Each function answers one question for every record of the chunk at once;
`build.py` is the readable wrapper that decides which records take this path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Int = npt.NDArray[np.integer[Any]]


def group_sums(per_sample: npt.NDArray[Any], onehot: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """records × samples → records × groups, as one matrix product (exact: counts ≪ 2**53)."""
    return np.rint(per_sample.astype(np.float64) @ onehot).astype(np.int32)


def called_and_ploidy(gt: npt.NDArray[np.int16]) -> tuple[Int, Int]:
    """Called alleles and ploidy per record × sample (element-wise on the two allele planes: a
    reduction along a length-2 axis is several times slower in numpy)."""
    if gt.shape[2] != 2:  # polyploid records: the general (slower) reduction
        return (gt >= 0).sum(axis=2), (gt != -2).sum(axis=2)
    a0, a1 = gt[:, :, 0], gt[:, :, 1]
    called = (a0 >= 0).view(np.int8) + (a1 >= 0).view(np.int8)
    ploidy = 2 - (a0 == -2).view(np.int8) - (a1 == -2).view(np.int8)
    return called, ploidy


def allele_counts(
    gt: npt.NDArray[np.int16], k: Int, ploidy: Int
) -> tuple[Int, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Copies of each record's ALT `k`, homozygous-ALT and hemizygous-ALT calls, per record × sample."""
    kk = k[:, None]
    if gt.shape[2] == 2:
        ac = (gt[:, :, 0] == kk).view(np.int8) + (gt[:, :, 1] == kk).view(np.int8)
    else:
        ac = (gt == kk[:, :, None]).sum(axis=2)
    hom = (ploidy >= 2) & (ac == ploidy)
    hemi = (ploidy == 1) & (ac == 1)
    return ac, hom, hemi


def sparse_calls(gt: npt.NDArray[np.int16], k: Int) -> tuple[Int, Int, npt.NDArray[np.int8]]:
    """The (record, sample) pairs worth a row — an ALT or a missing allele — and their allele codes.

    Codes relative to ALT k: 0 REF, 1 this ALT, 2 another ALT, -1 missing, -2 absent.
    """
    if gt.shape[2] == 2:
        a0, a1 = gt[:, :, 0], gt[:, :, 1]
        keep = (a0 > 0) | (a1 > 0) | (a0 == -1) | (a1 == -1)
    else:
        keep = ((gt > 0) | (gt == -1)).any(axis=2)
    r, s = np.nonzero(keep)
    raw = gt[r, s]
    codes = np.where(raw == k[r, None], 1, np.where(raw > 0, 2, raw)).astype(np.int8)
    return r, s, codes


def stack_genotypes(gts: list[npt.NDArray[np.int16]], width: int = 2) -> npt.NDArray[np.int16]:
    """Stack per-record samples × ploidy arrays, padding lower ploidy with -2 (absent)."""
    n = gts[0].shape[0]
    out = np.full((len(gts), n, width), -2, dtype=np.int16)
    for i, g in enumerate(gts):
        out[i, :, : g.shape[1]] = g
    return out


def stack_format(values: list[npt.NDArray[Any] | None], n: int, columns: list[list[int]]) -> npt.NDArray[Any] | None:
    """Stack one FORMAT field across records, taking `columns[i]` of record i; None if no record has it."""
    if all(v is None for v in values):
        return None
    kinds = {v.dtype.kind for v in values if v is not None}
    dtype = np.float32 if "f" in kinds else np.int32
    missing = np.nan if dtype is np.float32 else np.iinfo(np.int32).min
    out = np.full((len(values), n, len(columns[0])), missing, dtype=dtype)
    for i, v in enumerate(values):
        if v is None:
            continue
        v = v.reshape(n, -1)
        for j, c in enumerate(columns[i]):
            if c < v.shape[1]:
                out[i, :, j] = v[:, c]
    return out
