"""One centre's VCF text: calls, read depths, genotype qualities and filters, formatted with numpy.

A regional pipeline calls its own samples and emits only the sites where one of them carries an
ALT (variant-only; the PGx positions it force-calls are the exception, written for everyone), so a
site common elsewhere may be absent from a centre's file; that is why the
node needs allele numbers from coverage, not from records. Calls sit on simulated reads: depth
over-dispersed around 30×, allele balance of heterozygotes around one half, a few sequencing
errors, a few no-calls, and a QUAL that grows with the ALT reads, so weak singletons fail
'LowQual' as they would after variant calling.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from numpy.dtypes import StringDType

from genomenode.domain.assembly import CANONICAL_CONTIGS, Assembly, contig_lengths
from genomenode.simulate.sites import SiteTable

MISSING_RATE = 0.005
MEAN_DEPTH = 30
DEPTH_DISPERSION = 12  # negative-binomial size: SD ≈ 10 at 30×
ERROR_RATE = 0.01
LOW_QUAL = 30.0
CHUNK = 2_000  # sites formatted at once, to bound memory
_MAX_ALLELES = 4
_FORMAT = "GT:DP:GQ:AD"


def header_lines(assembly: Assembly, samples: list[str], *, source: str) -> list[str]:
    lengths = contig_lengths(assembly)
    return [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        f'##FILTER=<ID=LowQual,Description="QUAL below {LOW_QUAL:g}">',
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes, for each ALT allele">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Read depth for each allele">',
        *(f"##contig=<ID={c},length={lengths[c]}>" for c in CANONICAL_CONTIGS if c in lengths),
        f"##reference={assembly.value}",
        f"##source={source}",
        "\t".join(("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples)),
    ]


def centre_records(table: SiteTable, members: npt.NDArray[np.int64], rng: np.random.Generator) -> Iterator[str]:
    """VCF lines for the people `members` (column order), only where one of them has an ALT call."""
    for start in range(0, len(table), CHUNK):
        block = table.haplotypes[start : start + CHUNK]
        forced = table.forced[start : start + CHUNK]
        yield from _chunk(table, start, block[:, 2 * members], block[:, 2 * members + 1], forced, rng)


def _chunk(
    table: SiteTable,
    start: int,
    first: npt.NDArray[np.int8],
    second: npt.NDArray[np.int8],
    forced: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> Iterator[str]:
    """Lines for sites `start`…: `first`/`second` are the members' two haplotype slots (sites × people).

    A `forced` site (a PGx position the centre force-calls, as PharmCAT's preprocessing expects)
    is written whoever carries what, with every ALT and no no-calls."""
    # x, y: the two called alleles; -1 a no-call, -2 no such copy (haploid, or a woman's chrY).
    x = first.astype(np.int64)
    y = np.where(second < 0, -2, second).astype(np.int64)
    absent = x < 0
    diploid = y > -2
    missing = (rng.random(x.shape) < MISSING_RATE) & ~absent & ~forced[:, None]
    x[missing] = -1
    y[missing & diploid] = -1
    keep = ((x > 0) | (y > 0)).any(axis=1) | forced  # variant-only, but for force-called positions
    if not keep.any():
        return
    x, y, diploid, forced = x[keep], y[keep], diploid[keep], forced[keep]
    site = np.flatnonzero(keep) + start
    x, y, alts = _drop_uncarried_alts(x, y, [table.alts[s] for s in site], forced)
    n_alleles = np.array([1 + len(a) for a in alts])
    called = x >= 0
    het = called & diploid & (x != y)
    lo, hi = np.where(het, np.minimum(x, y), x), np.where(het, np.maximum(x, y), y)

    mean = MEAN_DEPTH * np.where(diploid, 1.0, 0.5)  # one copy, half the reads: a man's chrX is at ~15×
    depth = rng.negative_binomial(DEPTH_DISPERSION, DEPTH_DISPERSION / (DEPTH_DISPERSION + mean))
    depth = np.maximum(1, np.rint(depth * rng.lognormal(0.0, 0.15, (len(site), 1)))).astype(np.int64)
    errors = rng.binomial(depth, ERROR_RATE)
    first_reads = np.where(het, rng.binomial(depth, rng.beta(20, 20, x.shape)), depth - errors)
    other = np.where(het, y, np.where(x == 0, 1, 0))  # a heterozygote's second allele, else the error reads' allele
    ad = np.zeros((*x.shape, _MAX_ALLELES), np.int64)
    np.put_along_axis(ad, np.maximum(x, 0)[..., None], first_reads[..., None], axis=2)
    np.put_along_axis(ad, other[..., None], (depth - first_reads)[..., None], axis=2)
    minor = np.minimum(first_reads, depth - first_reads)
    noise = rng.normal(0.0, 3.0, x.shape)
    gq = np.clip(np.rint(np.where(het, 6.0 * minor, 3.0 * depth - 10.0 * errors) + noise), 0, 99).astype(np.int64)

    alt_reads = np.where(called & ((x > 0) | (y > 0)), depth - ad[..., 0], 0)
    qual = np.round(np.maximum(1.0, 6.0 * alt_reads.sum(axis=1) * rng.lognormal(0.0, 0.5, len(site))), 2)
    an = (x >= 0).sum(axis=1) + (y >= 0).sum(axis=1)
    ac = np.stack([(x == k).sum(axis=1) + (y == k).sum(axis=1) for k in range(1, _MAX_ALLELES)], axis=1)

    cells = _cells(lo, hi, called, depth, gq, ad, n_alleles)
    for i, s in enumerate(site.tolist()):
        n_alt = int(n_alleles[i]) - 1
        info = f"AC={','.join(str(c) for c in ac[i, :n_alt])};AN={an[i]}"
        fixed = (
            table.chrom[s],
            str(table.pos[s]),
            table.ids[s],
            table.refs[s],
            ",".join(alts[i]),
            f"{qual[i]:.2f}",
            "PASS" if qual[i] >= LOW_QUAL or (forced[i] and not alt_reads[i].any()) else "LowQual",
            info,
            _FORMAT,
        )
        yield "\t".join((*fixed, *cells[i].tolist()))


def _drop_uncarried_alts(
    x: npt.NDArray[np.int64],
    y: npt.NDArray[np.int64],
    alts: list[tuple[str, ...]],
    forced: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[tuple[str, ...]]]:
    """A centre calls only the ALTs its own samples carry: renumber the rest away at multi-allelic
    sites; a force-called site keeps all its ALTs."""
    present = np.stack([(x == k).any(axis=1) | (y == k).any(axis=1) for k in range(_MAX_ALLELES)], axis=1)
    present[:, 0] = True
    n_alts = np.array([len(a) for a in alts])
    present |= forced[:, None] & (np.arange(_MAX_ALLELES)[None, :] <= n_alts[:, None])
    # remap[value + 2] is the new code of a call value: -2 and -1 stay, alleles close up.
    remap = np.concatenate([np.tile([-2, -1], (len(x), 1)), np.cumsum(present, axis=1) - 1], axis=1)
    kept = [tuple(a for k, a in enumerate(row, start=1) if present[i, k]) for i, row in enumerate(alts)]
    return np.take_along_axis(remap, x + 2, axis=1), np.take_along_axis(remap, y + 2, axis=1), kept


def _cells(
    lo: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    called: npt.NDArray[np.bool_],
    depth: npt.NDArray[np.int64],
    gq: npt.NDArray[np.int64],
    ad: npt.NDArray[np.int64],
    n_alleles: npt.NDArray[np.int64],
) -> npt.NDArray[np.str_]:
    """`GT:DP:GQ:AD` per sample, built column-wise: no Python loop over genotypes."""
    numbers = np.arange(max(int(depth.max(initial=0)), 99) + 1).astype(StringDType())  # a lookup beats astype
    gt = _GT_TEXT[(lo + 2) * 6 + (hi + 2)]
    ad_text = numbers[ad[..., 0]] + "," + numbers[ad[..., 1]]
    for k in range(2, _MAX_ALLELES):
        more = n_alleles > k  # only multi-allelic rows carry a third or fourth depth
        ad_text[more] = ad_text[more] + "," + numbers[ad[more, :, k]]
    full = gt + ":" + numbers[depth] + ":" + numbers[gq] + ":" + ad_text
    result: npt.NDArray[np.str_] = np.where(called, full, gt + ":.:.:.")
    return result


def _gt_text() -> npt.NDArray[np.str_]:
    """GT strings indexed by (a + 2) * 6 + (b + 2), a and b in -2..3; b = -2 means haploid."""

    def label(a: int) -> str:
        return "." if a < 0 else str(a)

    texts = [label(a) if b == -2 else f"{label(a)}/{label(b)}" for a in range(-2, 4) for b in range(-2, 4)]
    return np.array(texts, dtype=StringDType())


_GT_TEXT = _gt_text()
