"""A trio's genotypes and VCF: parents from the pool, the child by transmission, noise, the planted cause.

Haplotype rows hold six slots, person i in slots 2i and 2i + 1 (proband, father, mother), as
`genomenode.simulate.sites` lays them out: -1 is a copy the person does not have (a man's second
chrX outside the PARs). The child takes, per chromosome and parent, one parental haplotype that
switches at Poisson crossover points (1.2 cM/Mb, the sex-averaged rate); a father passes his one X
whole to a daughter and none to a son.

Noise, so the analyser meets the competition a real trio exome brings:
  - true de novo SNVs in the child: Poisson, DE_NOVO_PER_EXOME (about 1.3 coding de novos a child);
  - de novo-like artefacts: a rare inherited heterozygous call whose parent's call dropped to hom-ref
    (DROPOUTS_PER_EXOME), so it looks de novo;
  - everything else is the founders' own variation: rare LoF-like and missense-like alleles in
    other genes, rare homozygotes and pairs in one gene, common variants.

Calls are written by the package's `simulate.records.centre_records`: read depth around 30×,
genotype qualities, allele depths, a few no-calls, QUAL and LowQual as a pipeline would. The
planted alleles are drawn again until every family member's call there is called, PASS, DP ≥ 10,
GQ ≥ 20 and balanced (a solved case's causal call is a confirmed one).
"""

from __future__ import annotations

import functools
import heapq
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from genomenode.domain.assembly import CONTIG_ORDER, Assembly, contig_lengths
from genomenode.simulate.records import centre_records
from genomenode.simulate.sites import SiteTable
from genomenode.store.transcripts import feature_table

from .genome import (
    CHROMS,
    CSQ_HEADER,
    LOF_TERMS,
    S_CONSEQUENCE,
    S_LOF,
    background_terms,
    contig_name,
    csq_entry,
    inserted_bases,
    non_par_x,
    random_target_positions,
    reference_bases,
    reference_text,
    region_index,
    snv_alt,
    targets,
    uniform,
)
from .pool import Pool

CROSSOVER_RATE = 1.2e-8  # per base per meiosis
DE_NOVO_PER_EXOME = 1.3
DROPOUTS_PER_EXOME = 3.0
RARE = 0.01  # a dropout is placed on an inherited allele rarer than this
CLEARANCE = 10  # bases kept free around a planted or de novo allele
_MEMBERS = np.array([0, 1, 2])

Int = npt.NDArray[np.int64]
Key = tuple[int, int]  # (contig order, position): genome order


@dataclass
class ChromCalls:
    """One chromosome of a family: sites, alleles, 6-slot haplotypes, gnomAD-like frequencies (NaN: absent)."""

    chrom: str
    pos: Int
    refs: list[str]
    alts: list[str]
    haplotypes: npt.NDArray[np.int8]  # sites × 6
    af: npt.NDArray[np.float64]
    max_af: npt.NDArray[np.float64]
    terms: list[str] = field(default_factory=list)  # VEP Consequence per site, for planted sites only
    genes: list[str] = field(default_factory=list)  # and their gene (VEP names the disease gene's transcript)

    def add(self, pos: int, ref: str, alt: str, row: npt.NDArray[np.int8], af: float, max_af: float) -> None:
        at = int(np.searchsorted(self.pos, pos))
        self.pos = np.insert(self.pos, at, pos)
        self.refs.insert(at, ref)
        self.alts.insert(at, alt)
        self.haplotypes = np.insert(self.haplotypes, at, row, axis=0)
        self.af = np.insert(self.af, at, af)
        self.max_af = np.insert(self.max_af, at, max_af)

    def clear(self, pos: int, width: int = 1) -> bool:
        """No site within CLEARANCE of [pos, pos + width)."""
        lo, hi = np.searchsorted(self.pos, [pos - CLEARANCE, pos + width + CLEARANCE])
        return bool(lo == hi)


def transmit(parent: npt.NDArray[np.int8], pos: Int, length: int, rng: np.random.Generator) -> npt.NDArray[np.int8]:
    """The haplotype a child gets from `parent` (2 × sites): switching at Poisson crossovers."""
    crossovers = np.sort(rng.integers(1, length, size=rng.poisson(length * CROSSOVER_RATE)))
    which = (int(rng.integers(0, 2)) + np.searchsorted(crossovers, pos)) % 2
    return parent[which, np.arange(len(pos))]


def trio_haplotypes(
    assembly: Assembly,
    chrom: str,
    pos: Int,
    dad: npt.NDArray[np.int8],
    mum: npt.NDArray[np.int8],
    *,
    proband_male: bool,
    rng: np.random.Generator,
) -> npt.NDArray[np.int8]:
    """Sites × 6 slots (proband, father, mother) from the parents' 2 × sites haplotypes."""
    length = contig_lengths(assembly)[chrom]
    haploid = non_par_x(assembly, chrom, pos)
    from_dad = transmit(dad, pos, length, rng)
    from_mum = transmit(mum, pos, length, rng)
    child = np.stack([from_dad, from_mum])
    father = dad.copy()
    if haploid.any():
        father[1, haploid] = -1
        if proband_male:
            child[0, haploid] = from_mum[haploid]
            child[1, haploid] = -1
        else:
            child[0, haploid] = dad[0, haploid]
    return np.ascontiguousarray(np.concatenate([child, father, mum]).T)


def exome_family(
    pool: Pool, assembly: Assembly, founders: tuple[int, int], *, proband_male: bool, rng: np.random.Generator
) -> list[ChromCalls]:
    """The trio's carried sites on every chromosome, from two pool people as parents."""
    out = []
    rows = [2 * founders[0], 2 * founders[0] + 1, 2 * founders[1], 2 * founders[1] + 1]
    for chrom in CHROMS:
        sites = pool.sites(assembly, chrom)
        founder = pool.chrom(chrom).haplotypes(rows)[:, sites.index]
        h = trio_haplotypes(assembly, chrom, sites.pos, founder[:2], founder[2:], proband_male=proband_male, rng=rng)
        carried = np.flatnonzero((h > 0).any(axis=1))
        af, max_af = pool.frequencies(chrom, sites.index[carried], founder[:, carried], founders)
        af[af <= 0] = np.nan
        max_af[max_af <= 0] = np.nan
        out.append(
            ChromCalls(
                chrom,
                sites.pos[carried],
                [sites.refs[i] for i in carried],
                [sites.alts[i] for i in carried],
                h[carried],
                af,
                max_af,
            )
        )
    return out


def empty_row(assembly: Assembly, chrom: str, pos: int, proband_male: bool) -> npt.NDArray[np.int8]:
    """Six hom-ref slots, with -1 for the copies men lack at this position."""
    row = np.zeros(6, np.int8)
    if non_par_x(assembly, chrom, np.array([pos]))[0]:
        row[3] = -1
        if proband_male:
            row[1] = -1
    return row


def add_de_novos(
    calls: list[ChromCalls],
    assembly: Assembly,
    n: int,
    *,
    proband_male: bool,
    rng: np.random.Generator,
    genome_wide: bool = False,
) -> None:
    """`n` de novo SNVs in the proband, at target positions (or anywhere: `genome_wide`), spread by size."""
    lengths = contig_lengths(assembly)
    if genome_wide:
        sizes = np.array([lengths[c.chrom] for c in calls], np.float64)
    else:
        sizes = np.array([(e - s + 1).sum() for s, e in (targets(assembly)[c.chrom] for c in calls)], np.float64)
    for k in rng.choice(len(calls), size=n, p=sizes / sizes.sum()):
        c = calls[int(k)]
        while True:
            if genome_wide:
                pos = int(rng.integers(CLEARANCE + 1, lengths[c.chrom] - CLEARANCE))
            else:
                pos = int(random_target_positions(assembly, c.chrom, 1, rng)[0])
            if c.clear(pos):
                break
        ref = reference_bases(assembly, c.chrom, np.array([pos]))
        alt = snv_alt(ref, rng.random(1))
        row = empty_row(assembly, c.chrom, pos, proband_male)
        row[0] = 1
        c.add(pos, "ACGT"[ref[0]], "ACGT"[alt[0]], row, np.nan, np.nan)


def add_dropouts(calls: list[ChromCalls], n: int, rng: np.random.Generator) -> None:
    """`n` rare inherited heterozygous alleles whose one carrier parent is called hom-ref."""
    eligible = []
    for c in calls:
        h = c.haplotypes > 0
        child = h[:, 0].astype(np.int64) + h[:, 1]
        parents = h[:, 2].astype(np.int64) + h[:, 3] + h[:, 4] + h[:, 5]
        rare = ~(c.af >= RARE)  # NaN (absent from the frequency panel) counts as rare
        eligible.append(np.flatnonzero((child == 1) & (parents == 1) & rare))
    sizes = np.array([len(e) for e in eligible])
    if not sizes.sum():
        return
    picks = rng.choice(int(sizes.sum()), size=min(n, int(sizes.sum())), replace=False)
    chrom_of = np.searchsorted(np.cumsum(sizes), picks, side="right")
    for k, pick in zip(chrom_of.tolist(), picks.tolist(), strict=True):
        i = eligible[k][pick - (int(sizes[:k].sum()))]
        h = calls[k].haplotypes
        h[i, 2:][h[i, 2:] > 0] = 0


# -- planted causal alleles ----------------------------------------------------------------------

PLANTED_TERMS = {
    "missense": "missense_variant",
    "stop_gained": "stop_gained",
    "frameshift": "frameshift_variant",
    "splice_donor": "splice_donor_variant&intron_variant",
    "splice_acceptor": "splice_acceptor_variant&intron_variant",
}


@dataclass(frozen=True)
class GeneModel:
    chrom: str
    strand: str
    cds: tuple[Int, Int]
    coding_introns: tuple[Int, Int]


@functools.cache
def _features(assembly: Assembly) -> tuple[dict[str, Int], dict[str, npt.NDArray[Any]]]:
    """The feature table as numpy columns, and each gene symbol's rows."""
    table = feature_table(assembly)
    columns = {
        name: np.asarray(table[name].to_numpy(zero_copy_only=False))
        for name in ("feature", "gene_symbol", "chrom", "start", "end", "strand")
    }
    encoded = pc.dictionary_encode(table["gene_symbol"]).combine_chunks()
    codes = np.asarray(encoded.indices.to_numpy(), np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(encoded.dictionary) + 1))
    rows = {str(name): order[bounds[i] : bounds[i + 1]] for i, name in enumerate(encoded.dictionary.to_pylist())}
    return rows, columns


@functools.cache
def gene_model(assembly: Assembly, symbol: str) -> GeneModel | None:
    """The gene's CDS pieces and coding introns (those next to a CDS piece); None without CDS on CHROMS."""
    by_gene, columns = _features(assembly)
    rows = by_gene.get(symbol)
    if rows is None:
        return None
    kind, chrom = columns["feature"][rows], columns["chrom"][rows]
    start, end = columns["start"][rows].astype(np.int64), columns["end"][rows].astype(np.int64)
    cds = (kind == "cds") & np.isin(chrom, CHROMS)
    if not cds.any():
        return None
    main = str(chrom[cds][0])
    cds &= chrom == main
    intron = (kind == "intron") & (chrom == main)
    coding = intron & (np.isin(start - 1, end[cds]) | np.isin(end + 1, start[cds]))
    strand = str(columns["strand"][rows][np.flatnonzero(cds)[0]])
    return GeneModel(main, strand, (start[cds], end[cds]), (start[coding], end[coding]))


@dataclass(frozen=True)
class Planted:
    chrom: str  # canonical
    pos: int
    ref: str
    alt: str
    kind: str  # a key of PLANTED_TERMS
    gene: str
    row: tuple[int, ...]  # the six slots
    af: float | None
    max_af: float | None


def plant_position(
    assembly: Assembly, model: GeneModel, kind: str, calls: ChromCalls, rng: np.random.Generator
) -> tuple[int, str, str]:
    """Position, REF and ALT of an allele of `kind` in the gene, clear of the family's other sites."""
    for _ in range(1000):
        if kind.startswith("splice") and len(model.coding_introns[0]):
            starts, ends = model.coding_introns
            i = int(rng.integers(0, len(starts)))
            donor_at_start = (model.strand != "-") == (kind == "splice_donor")
            pos = int(starts[i] + rng.integers(0, 2)) if donor_at_start else int(ends[i] - rng.integers(0, 2))
        else:
            starts, ends = model.cds
            lengths = (ends - starts + 1).astype(np.float64)
            i = int(rng.choice(len(starts), p=lengths / lengths.sum()))
            pos = int(rng.integers(starts[i], ends[i] + 1))
        if not calls.clear(pos, 3):
            continue
        ref = reference_text(assembly, model.chrom, pos, 1)
        if kind != "frameshift":
            alt = "ACGT"[int(snv_alt(np.array([("ACGT".index(ref))], np.int8), rng.random(1))[0])]
            return pos, ref, alt
        if rng.random() < 0.5:  # a 1- or 2-base deletion, left-aligned against the pseudo-reference
            deleted = reference_text(assembly, model.chrom, pos, int(rng.integers(2, 4)))
            if deleted[-1] != deleted[0]:
                return pos, deleted, deleted[0]
            continue
        return pos, ref, ref + inserted_bases(assembly, model.chrom, pos * 7 + 1, int(rng.integers(1, 3)), ref)
    raise RuntimeError(f"no room for a {kind} allele in {model.chrom} gene model")


# -- VCF -----------------------------------------------------------------------------------------


# How a case's VCF is annotated: a lab's pipeline gives consequences (VEP CSQ) or not, and population
# frequencies as VEP writes them (CSQ columns gnomADe_AF and MAX_AF), as vcfanno or `bcftools annotate`
# write them (INFO), both, or not at all.
ANNOTATIONS = {
    "csq": "VEP CSQ, gnomAD AF in its columns only",
    "csq+info": "VEP CSQ and gnomAD AF in INFO",
    "info": "no consequences, gnomAD AF in INFO",
    "bare": "no annotation at all",
}
INFO_AF_HEADER = (
    '##INFO=<ID=gnomAD_AF,Number=A,Type=Float,Description="Alternate allele frequency in gnomAD exomes '
    "(simulated: the rest of the benchmark's founder pool), as vcfanno writes it\">",
    '##INFO=<ID=gnomAD_popmax_AF,Number=A,Type=Float,Description="Highest population allele frequency in '
    'gnomAD exomes (simulated), as vcfanno writes it">',
)


def header_lines(assembly: Assembly, samples: list[str], *, annotation: str, source: str) -> list[str]:
    lengths = contig_lengths(assembly)
    return [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=LowQual,Description="QUAL below 30">',
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes, for each ALT allele">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
        *([CSQ_HEADER] if annotation.startswith("csq") else []),
        *(INFO_AF_HEADER if "info" in annotation else ()),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Read depth for each allele">',
        *(f"##contig=<ID={contig_name(assembly, c)},length={lengths[c]}>" for c in (*CHROMS, "chrY", "chrM")),
        f"##reference={assembly.value}",
        f"##source={source}",
        "\t".join(("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples)),
    ]


def _table(assembly: Assembly, calls: Iterable[ChromCalls]) -> SiteTable:
    calls = [c for c in calls if len(c.pos)]
    return SiteTable(
        chrom=tuple(contig_name(assembly, c.chrom) for c in calls for _ in range(len(c.pos))),
        pos=np.concatenate([c.pos for c in calls]) if calls else np.zeros(0, np.int64),
        ids=(".",) * sum(len(c.pos) for c in calls),
        refs=tuple(r for c in calls for r in c.refs),
        alts=tuple((a,) for c in calls for a in c.alts),
        haplotypes=np.concatenate([c.haplotypes for c in calls]) if calls else np.zeros((0, 6), np.int8),
        forced=np.zeros(sum(len(c.pos) for c in calls), np.bool_),  # ordinary sites: no force-called PGx
    )


def _csq(assembly: Assembly, c: ChromCalls) -> list[str]:
    """A VEP-style CSQ value per site of a chromosome (one transcript each)."""
    if not len(c.pos):
        return []
    ends = c.pos + np.array([len(r) for r in c.refs]) - 1
    annotation = region_index(assembly).classify(np.full(len(c.pos), c.chrom, dtype=object), c.pos, ends)
    u = uniform(assembly, c.chrom, c.pos, S_CONSEQUENCE)
    u_lof = uniform(assembly, c.chrom, c.pos, S_LOF)
    first = annotation.gene_offsets[:-1]
    has_gene = annotation.gene_offsets[1:] > first
    out = []
    for i in range(len(c.pos)):
        gene = str(annotation.symbols[annotation.gene_rows[first[i]]]) if has_gene[i] else ""
        gene = c.genes[i] if c.genes else gene
        planted = c.terms[i] if c.terms else ""
        terms = planted or background_terms(int(annotation.region_class[i]), c.refs[i], c.alts[i], float(u[i]))
        if not gene and not planted:
            terms = "intergenic_variant"
        lof = ("HC" if planted or u_lof[i] < 0.85 else "LC") if set(terms.split("&")) & LOF_TERMS else ""
        af = None if np.isnan(c.af[i]) else float(c.af[i])
        max_af = None if np.isnan(c.max_af[i]) else float(c.max_af[i])
        out.append(csq_entry(c.refs[i], c.alts[i], terms, gene, lof=lof, af=af, max_af=max_af))
    return out


def _good_call(line: str, row: npt.NDArray[np.int8]) -> bool:
    """The planted record is PASS and each member is called as planted, DP ≥ 10, GQ ≥ 20, balanced if het."""
    fields = line.split("\t")
    if fields[6] != "PASS":
        return False
    for member, cell in enumerate(fields[9:12]):
        gt, dp, gq, ad = cell.split(":")
        alleles = [a for a in (row[2 * member], row[2 * member + 1]) if a >= 0]
        expected = "/".join(str(a) for a in sorted(alleles))
        if gt != expected or dp == "." or int(dp) < 10 or int(gq) < 20:
            return False
        ref_reads, alt_reads = (int(x) for x in ad.split(","))
        if len(set(alleles)) == 2 and not 0.25 <= alt_reads / max(1, ref_reads + alt_reads) <= 0.75:
            return False
    return True


def _planted_lines(assembly: Assembly, planted: list[Planted], rng: np.random.Generator) -> list[str]:
    lines = []
    for p in planted:
        row = np.array(p.row, np.int8)
        table = SiteTable(
            (contig_name(assembly, p.chrom),),
            np.array([p.pos]),
            (".",),
            (p.ref,),
            ((p.alt,),),
            row[None, :],
            np.zeros(1, np.bool_),
        )
        for _ in range(200):
            drawn = list(centre_records(table, _MEMBERS, rng))
            if drawn and _good_call(drawn[0], row):
                lines.append(drawn[0])
                break
        else:
            raise RuntimeError(f"could not draw a clean call for the planted allele at {p.chrom}:{p.pos}")
    return lines


def _info_af(c: ChromCalls) -> list[str]:
    """vcfanno-style INFO frequency fields per site ("" where the allele is absent from the panel)."""
    return [
        "" if np.isnan(af) else f"gnomAD_AF={af:.3g};gnomAD_popmax_AF={max_af:.3g}"
        for af, max_af in zip(c.af.tolist(), np.fmax(c.max_af, c.af).tolist(), strict=True)
    ]


def _info_texts(assembly: Assembly, calls: Iterable[ChromCalls], annotation: str) -> Iterator[tuple[Key, str]]:
    """(contig order, position) and the extra INFO text of each site, in genome order, one chromosome at a time."""
    for c in calls:
        parts = []
        if annotation.startswith("csq"):
            parts.append([f"CSQ={v}" for v in _csq(assembly, c)])
        if "info" in annotation:
            parts.append(_info_af(c))
        order = CONTIG_ORDER[c.chrom]
        for p, *texts in zip(c.pos.tolist(), *parts, strict=True):
            yield (order, p), ";".join(t for t in texts if t)


def _with_info(
    lines: Iterator[str], key: Callable[[str], Key], sites: Iterator[tuple[Key, str]], planted: dict[Key, str]
) -> Iterator[str]:
    """Append each site's extra INFO text after AC and AN: a streaming join, since the records come in
    genome order and are the sites less any whose only carrier's call was drawn missing."""
    current = next(sites, None)
    for line in lines:
        at = key(line)
        value = planted.get(at)
        if value is None:
            while current is not None and current[0] < at:
                current = next(sites, None)
            value = current[1] if current is not None and current[0] == at else ""
        if not value:
            yield line
            continue
        fields = line.split("\t")
        fields[7] += f";{value}"
        yield "\t".join(fields)


def write_family_vcf(
    path: Path,
    assembly: Assembly,
    calls: list[ChromCalls],
    planted: list[Planted],
    samples: list[str],
    *,
    annotation: str,
    source: str,
    rng: np.random.Generator,
) -> int:
    """Write the trio's bgzipped, tabix-indexed VCF (samples: proband, father, mother); returns its records."""
    background = centre_records(_table(assembly, calls), _MEMBERS, rng)
    extra = _planted_lines(assembly, planted, rng)
    order = {contig_name(assembly, c): CONTIG_ORDER[c] for c in CHROMS}

    def key(line: str) -> Key:
        chrom, pos, _ = line.split("\t", 2)
        return order[chrom], int(pos)

    lines: Iterator[str] = heapq.merge(background, iter(sorted(extra, key=key)), key=key)
    if annotation != "bare":
        planted_calls = [
            ChromCalls(
                p.chrom,
                np.array([p.pos]),
                [p.ref],
                [p.alt],
                np.array([p.row], np.int8),
                np.array([np.nan if p.af is None else p.af]),
                np.array([np.nan if p.max_af is None else p.max_af]),
                [PLANTED_TERMS[p.kind]],
                [p.gene],
            )
            for p in planted
        ]
        planted_info = dict(_info_texts(assembly, planted_calls, annotation))
        lines = _with_info(lines, key, _info_texts(assembly, calls, annotation), planted_info)
    return write_bgzipped(path, header_lines(assembly, samples, annotation=annotation, source=source), lines)


def write_bgzipped(path: Path, header: list[str], lines: Iterable[str]) -> int:
    """Plain VCF text through Debian's bgzip, then a tabix index; atomically (a .tmp first)."""
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("wb") as out:
        bgzip = subprocess.Popen(["bgzip", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert bgzip.stdin is not None
        bgzip.stdin.write(("\n".join(header) + "\n").encode())
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 10_000:
                bgzip.stdin.write(("\n".join(batch) + "\n").encode())
                n += len(batch)
                batch = []
        if batch:
            bgzip.stdin.write(("\n".join(batch) + "\n").encode())
            n += len(batch)
        bgzip.stdin.close()
        if bgzip.wait() != 0:
            raise RuntimeError(f"bgzip failed writing {path}")
    tmp.replace(path)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    return n


def ped_text(family: str, samples: list[str], *, proband_male: bool) -> str:
    proband, father, mother = samples
    return (
        f"{family}\t{proband}\t{father}\t{mother}\t{1 if proband_male else 2}\t2\n"
        f"{family}\t{father}\t0\t0\t1\t1\n"
        f"{family}\t{mother}\t0\t0\t2\t1\n"
    )
