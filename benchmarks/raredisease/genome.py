"""Where simulated variants sit and how they are spelled: exome targets, a pseudo-reference, CSQ text.

Exome targets are the installed GENCODE coding exons (CDS and stop codons of every transcript),
merged and padded by PAD bases on each side, as a capture kit's targets plus the flanks variant
callers report: about 57 Mb on GRCh38. The founder simulation runs in "target space" (the targets
of a chromosome laid end to end, `TargetSpace`), and each assembly maps it onto its own targets.

There is no reference FASTA here, so every REF base comes from a seeded pseudo-reference: a hash
of (assembly, contig, position) drawn with the human genome's ~41% GC. The same position always
has the same REF in every file of an assembly, a deletion's REF spells the bases it removes, and
insertions and deletions are left-aligned against that sequence. Nothing else about the sequence
is real (no codons, no CpG context), which is why consequences are drawn, not predicted: a
position's coarse class comes from the gene models (`interpret.raredisease.regions`), and the
VEP-style term within it (missense or synonymous, frameshift or in-frame) from a per-variant hash.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.domain.assembly import CONTIG_ORDER, PAR_REGIONS, Assembly
from genomenode.interpret.raredisease.consequence import TERM_IMPACT
from genomenode.interpret.raredisease.regions import RegionClass, RegionIndex
from genomenode.store.genes import gene_table
from genomenode.store.transcripts import feature_table

CHROMS: tuple[str, ...] = (*(f"chr{i}" for i in range(1, 23)), "chrX")
PAD = 50  # bases of flank on each side of a coding exon
BASES = "ACGT"
_CUMULATIVE_BASE = np.array([0.295, 0.5, 0.705, 1.0])  # A, C, G, T at ~41% GC
_SALT = {Assembly.GRCh38: 0x38, Assembly.GRCh37: 0x37}
# Hash streams: one per purpose, so one draw never reuses another's bits.
S_REF, S_INDEL, S_INDEL_LEN, S_DELETION, S_ALT, S_CONSEQUENCE, S_LOF, S_INSERT = range(1, 9)
INDEL_SHARE = 0.04  # of background sites; exome call sets hold a few percent of indels
_DELETION_LENGTHS = np.array([1, 1, 1, 1, 2, 2, 3, 3, 4, 6])
_INSERTION_LENGTHS = np.array([1, 1, 1, 1, 2, 2, 3, 3, 5])

Int = npt.NDArray[np.int64]


def contig_name(assembly: Assembly, chrom: str) -> str:
    """How the VCF spells a contig: `chr1` for GRCh38 files, `1` for GRCh37 ones (as most GRCh37 data is)."""
    return chrom if assembly is Assembly.GRCh38 else chrom.removeprefix("chr")


# -- targets ------------------------------------------------------------------------------------


@functools.cache
def targets(assembly: Assembly) -> dict[str, tuple[Int, Int]]:
    """Chromosome → sorted, disjoint target intervals (1-based inclusive starts and ends)."""
    table = feature_table(assembly)
    coding = table.filter(pc.is_in(table["feature"], value_set=pa.array(["cds", "stop_codon"])))
    chrom = np.asarray(coding["chrom"].to_numpy(zero_copy_only=False), dtype=object)
    start = np.asarray(coding["start"].to_numpy(), dtype=np.int64) - PAD
    end = np.asarray(coding["end"].to_numpy(), dtype=np.int64) + PAD
    out: dict[str, tuple[Int, Int]] = {}
    for name in CHROMS:
        mask = chrom == name
        s, e = start[mask], end[mask]
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        reach = np.maximum.accumulate(e)
        first = np.flatnonzero(np.concatenate([[True], s[1:] > reach[:-1] + 1]))
        out[name] = (np.maximum(s[first], 1), np.maximum.reduceat(e, first))
    return out


@dataclass(frozen=True)
class TargetSpace:
    """One chromosome's targets end to end: offset 0 is the first target's first base."""

    starts: Int
    ends: Int

    @property
    def lengths(self) -> Int:
        return self.ends - self.starts + 1

    @property
    def size(self) -> int:
        return int(self.lengths.sum())

    def to_genome(self, offsets: Int) -> tuple[Int, npt.NDArray[np.bool_]]:
        """Genomic positions of target-space offsets, and which offsets fall inside this assembly's targets."""
        cumulative = np.cumsum(self.lengths)
        valid = offsets < cumulative[-1]
        index = np.minimum(np.searchsorted(cumulative, offsets, side="right"), len(cumulative) - 1)
        return self.starts[index] + offsets - (cumulative[index] - self.lengths[index]), valid


def target_space(assembly: Assembly, chrom: str) -> TargetSpace:
    return TargetSpace(*targets(assembly)[chrom])


def random_target_positions(assembly: Assembly, chrom: str, n: int, rng: np.random.Generator) -> Int:
    """`n` positions drawn uniformly over the chromosome's target bases."""
    space = target_space(assembly, chrom)
    pos, _ = space.to_genome(rng.integers(0, space.size, size=n))
    return pos


def non_par_x(assembly: Assembly, chrom: str, pos: Int) -> npt.NDArray[np.bool_]:
    """Positions where a man has one copy: chrX outside the pseudo-autosomal regions."""
    if chrom != "chrX":
        return np.zeros(len(pos), np.bool_)
    par = np.zeros(len(pos), np.bool_)
    for lo, hi in PAR_REGIONS[assembly]["chrX"]:
        par |= (pos >= lo) & (pos <= hi)
    return ~par


# -- the pseudo-reference and alleles ------------------------------------------------------------


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: a well-spread 64-bit hash of each value (wrapping arithmetic)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniform(assembly: Assembly, chrom: str, pos: Int, stream: int) -> npt.NDArray[np.float64]:
    """A number in [0, 1) fixed by (assembly, contig, position, stream)."""
    key = (
        (np.uint64(_SALT[assembly]) << np.uint64(48))
        + (np.uint64(stream) << np.uint64(40))
        + (np.uint64(CONTIG_ORDER[chrom]) << np.uint64(32))
        + np.asarray(pos, dtype=np.uint64)
    )
    with np.errstate(over="ignore"):
        h = _mix(np.atleast_1d(key))
    return np.asarray((h >> np.uint64(11)).astype(np.float64) / float(1 << 53))


def reference_bases(assembly: Assembly, chrom: str, pos: Int) -> npt.NDArray[np.int8]:
    """The pseudo-reference base index (0-3 for ACGT) at each position."""
    u = uniform(assembly, chrom, pos, S_REF)
    return np.searchsorted(_CUMULATIVE_BASE, u, side="right").astype(np.int8)


def reference_text(assembly: Assembly, chrom: str, start: int, length: int) -> str:
    return "".join(BASES[b] for b in reference_bases(assembly, chrom, np.arange(start, start + length)))


def snv_alt(ref: npt.NDArray[np.int8], u: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """A different base, transitions about twice as often as transversions (A↔G and C↔T are `^ 2`)."""
    transversion = (ref + 1 + 2 * (u * 3 > 2).astype(np.int8)) % 4  # the two transversion partners
    return np.where(u < 2 / 3, ref ^ 2, transversion).astype(np.int8)


def site_alleles(
    assembly: Assembly, chrom: str, pos: Int, *, indel_share: float = INDEL_SHARE
) -> tuple[list[str], list[str]]:
    """REF and ALT of a background site at each (sorted, distinct) position.

    Most are SNVs; `indel_share` become a deletion of the bases after the anchor (when it ends
    before the next site and is left-aligned) or else an insertion after it.
    """
    ref = reference_bases(assembly, chrom, pos)
    alt = snv_alt(ref, uniform(assembly, chrom, pos, S_ALT))
    refs = [BASES[b] for b in ref]
    alts = [BASES[b] for b in alt]
    indel = np.flatnonzero(uniform(assembly, chrom, pos, S_INDEL) < indel_share)
    if not len(indel):
        return refs, alts
    next_pos = np.append(pos[1:], np.iinfo(np.int64).max)[indel]
    u_len = uniform(assembly, chrom, pos[indel], S_INDEL_LEN)
    deletion = uniform(assembly, chrom, pos[indel], S_DELETION) < 0.55
    for k, i in enumerate(indel.tolist()):
        p = int(pos[i])
        if deletion[k]:
            n = int(_DELETION_LENGTHS[int(u_len[k] * len(_DELETION_LENGTHS))])
            deleted = reference_text(assembly, chrom, p, n + 1)
            # a deletion whose last base equals the anchor could slide left: not left-aligned
            if p + n < next_pos[k] and deleted[-1] != deleted[0]:
                refs[i], alts[i] = deleted, deleted[0]
                continue
        n = int(_INSERTION_LENGTHS[int(u_len[k] * len(_INSERTION_LENGTHS))])
        refs[i], alts[i] = refs[i], refs[i] + inserted_bases(assembly, chrom, p, n, refs[i])
    return refs, alts


def inserted_bases(assembly: Assembly, chrom: str, pos: int, n: int, anchor: str) -> str:
    """`n` bases inserted after `pos`; the last differs from the anchor, so the insertion cannot slide left."""
    draws = uniform(assembly, chrom, np.full(n, pos) * 8 + np.arange(n), S_INSERT)
    bases = [BASES[int(d * 4)] for d in draws]
    if bases[-1] == anchor:
        bases[-1] = BASES[(BASES.index(anchor) + 1) % 4]
    return "".join(bases)


# -- consequences, as VEP would write them ------------------------------------------------------

CSQ_FIELDS = (
    *("Allele", "Consequence", "IMPACT", "SYMBOL", "Gene", "Feature_type", "Feature", "BIOTYPE"),
    *("EXON", "INTRON", "HGVSc", "HGVSp", "CANONICAL", "LoF", "gnomADe_AF", "MAX_AF"),
)
CSQ_HEADER = (
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP '
    "(simulated by benchmarks/raredisease). Format: " + "|".join(CSQ_FIELDS) + '">'
)
LOF_TERMS = frozenset({"stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant"})
# A coding SNV's term by its hash: rare stop-gains and start/stop losses, then missense, then synonymous.
_CODING_SNV = (
    (0.006, "stop_gained"),
    (0.008, "start_lost"),
    (0.010, "stop_lost"),
    (0.64, "missense_variant"),
    (1.0, "synonymous_variant"),
)


@functools.cache
def region_index(assembly: Assembly) -> RegionIndex:
    """Coarse classes from protein-coding genes and their exon/CDS/UTR/intron features."""
    genes = gene_table(assembly)
    genes = genes.filter(pc.equal(genes["gene_type"], "protein_coding"))
    return RegionIndex.build(genes, feature_table(assembly))


def background_terms(region: int, ref: str, alt: str, u: float) -> str:
    """VEP's `Consequence` (terms joined by `&`) of a background variant in a position of this class."""
    indel = len(ref) != len(alt)
    if region == RegionClass.SPLICE_SITE:
        return ("splice_donor_variant" if u < 0.5 else "splice_acceptor_variant") + "&intron_variant"
    if region == RegionClass.CODING_EXON:
        if indel:
            if abs(len(ref) - len(alt)) % 3:
                return "frameshift_variant"
            return "inframe_deletion" if len(ref) > len(alt) else "inframe_insertion"
        return next(term for cut, term in _CODING_SNV if u < cut)
    if region == RegionClass.SPLICE_REGION:
        return "splice_region_variant&" + ("intron_variant" if u < 0.6 else "synonymous_variant")
    if region == RegionClass.UTR:
        return "5_prime_UTR_variant" if u < 0.3 else "3_prime_UTR_variant"
    if region == RegionClass.NONCODING_EXON:
        return "non_coding_transcript_exon_variant"
    if region in (RegionClass.INTRON, RegionClass.GENIC):
        return "intron_variant"
    return "intergenic_variant"


def vep_allele(ref: str, alt: str) -> str:
    """VEP's `Allele` for one ALT: an indel sharing its first base with REF loses it (`-` if emptied)."""
    if len(ref) != len(alt) and ref[:1] == alt[:1]:
        return alt[1:] or "-"
    return alt


def csq_entry(
    ref: str,
    alt: str,
    terms: str,
    gene: str,
    *,
    lof: str = "",
    af: float | None = None,
    max_af: float | None = None,
) -> str:
    """One CSQ entry (one transcript) in CSQ_FIELDS order; what no simulation can know is left empty."""
    impact = max((TERM_IMPACT.get(t) for t in terms.split("&")), key=lambda i: i or 0)
    genic = bool(gene)
    values = {
        "Allele": vep_allele(ref, alt),
        "Consequence": terms,
        "IMPACT": impact.name if impact is not None else "MODIFIER",
        "SYMBOL": gene,
        "Feature_type": "Transcript" if genic else "",
        "BIOTYPE": "protein_coding" if genic else "",
        "CANONICAL": "YES" if genic else "",
        "LoF": lof,
        "gnomADe_AF": _af(af),
        "MAX_AF": _af(max_af),
    }
    return "|".join(values.get(name, "") for name in CSQ_FIELDS)


def _af(value: float | None) -> str:
    return "" if value is None or value <= 0 else f"{value:.3g}"
