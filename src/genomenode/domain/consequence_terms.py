"""The vocabulary of consequence annotations and the shape of what is read from them.

Sequence Ontology terms in Ensembl's severity order with their IMPACT, other annotators' names for
them (snpEff's in-frame indel split, bcftools csq's short names), LOFTEE's values, the column
names each annotator writes a field under, how VEP spells an ALT allele in its `Allele` column,
the per-transcript and per-allele result types, how an allele's transcripts are summed into one
answer (the most severe term, its representative transcript), and the Arrow table of those
answers. Reading the INFO strings themselves is `domain.consequence`; both are pure, so ingest,
Beacon and clinical interpretation share them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa

if TYPE_CHECKING:
    from genomenode.domain.consequence import AnnotationFormat


class Impact(enum.IntEnum):
    """VEP/snpEff IMPACT: a coarse rating for compatibility between annotators (higher = worse)."""

    MODIFIER = 0
    LOW = 1
    MODERATE = 2
    HIGH = 3


class AnnotationKind(enum.StrEnum):
    VEP = "CSQ"
    BCFTOOLS = "BCSQ"
    SNPEFF = "ANN"


# Ensembl's consequence terms, most severe first, with SO accession and IMPACT, as Ensembl
# publishes them ("Calculated variant consequences",
# https://www.ensembl.org/info/genome/variation/prediction/predicted_data.html) and as VEP ranks
# them (`rank` in ensembl-variation's modules/Bio/EnsEMBL/Variation/Utils/Constants.pm, checked
# at commit 23c76f6 of November 2025). No maintained PyPI package ships this list, so it is
# written once here.
SEVERITY_ORDER: tuple[tuple[str, str, Impact], ...] = (
    ("transcript_ablation", "SO:0001893", Impact.HIGH),
    ("splice_acceptor_variant", "SO:0001574", Impact.HIGH),
    ("splice_donor_variant", "SO:0001575", Impact.HIGH),
    ("stop_gained", "SO:0001587", Impact.HIGH),
    ("frameshift_variant", "SO:0001589", Impact.HIGH),
    ("stop_lost", "SO:0001578", Impact.HIGH),
    ("start_lost", "SO:0002012", Impact.HIGH),
    ("transcript_amplification", "SO:0001889", Impact.HIGH),
    ("feature_elongation", "SO:0001907", Impact.HIGH),
    ("feature_truncation", "SO:0001906", Impact.HIGH),
    ("inframe_insertion", "SO:0001821", Impact.MODERATE),
    ("inframe_deletion", "SO:0001822", Impact.MODERATE),
    ("missense_variant", "SO:0001583", Impact.MODERATE),
    ("protein_altering_variant", "SO:0001818", Impact.MODERATE),
    ("splice_donor_5th_base_variant", "SO:0001787", Impact.LOW),
    ("splice_region_variant", "SO:0001630", Impact.LOW),
    ("splice_donor_region_variant", "SO:0002170", Impact.LOW),
    ("splice_polypyrimidine_tract_variant", "SO:0002169", Impact.LOW),
    ("incomplete_terminal_codon_variant", "SO:0001626", Impact.LOW),
    ("start_retained_variant", "SO:0002019", Impact.LOW),
    ("stop_retained_variant", "SO:0001567", Impact.LOW),
    ("synonymous_variant", "SO:0001819", Impact.LOW),
    ("coding_sequence_variant", "SO:0001580", Impact.MODIFIER),
    ("mature_miRNA_variant", "SO:0001620", Impact.MODIFIER),
    ("5_prime_UTR_variant", "SO:0001623", Impact.MODIFIER),
    ("3_prime_UTR_variant", "SO:0001624", Impact.MODIFIER),
    ("non_coding_transcript_exon_variant", "SO:0001792", Impact.MODIFIER),
    ("intron_variant", "SO:0001627", Impact.MODIFIER),
    ("NMD_transcript_variant", "SO:0001621", Impact.MODIFIER),
    ("non_coding_transcript_variant", "SO:0001619", Impact.MODIFIER),
    ("coding_transcript_variant", "SO:0001968", Impact.MODIFIER),
    ("upstream_gene_variant", "SO:0001631", Impact.MODIFIER),
    ("downstream_gene_variant", "SO:0001632", Impact.MODIFIER),
    ("TFBS_ablation", "SO:0001895", Impact.MODERATE),
    ("TFBS_amplification", "SO:0001892", Impact.MODIFIER),
    ("TF_binding_site_variant", "SO:0001782", Impact.MODIFIER),
    ("regulatory_region_ablation", "SO:0001894", Impact.MODIFIER),
    ("regulatory_region_amplification", "SO:0001891", Impact.MODIFIER),
    ("regulatory_region_variant", "SO:0001566", Impact.MODIFIER),
    ("intergenic_variant", "SO:0001628", Impact.MODIFIER),
    ("sequence_variant", "SO:0001060", Impact.MODIFIER),
)

# Ranks are even for Ensembl's terms (0 = most severe). A term outside the list (snpEff's
# exon_loss_variant, a term from a newer VEP) ranks just after the last listed term of its own
# IMPACT (odd ranks), so it is never placed above what its annotator rated it.
_TERM_RANK: dict[str, int] = {term: 2 * i for i, (term, _, _) in enumerate(SEVERITY_ORDER)}
TERM_IMPACT: Mapping[str, Impact] = {term: impact for term, _, impact in SEVERITY_ORDER}
TERM_ACCESSION: Mapping[str, str] = {term: accession for term, accession, _ in SEVERITY_ORDER}
_UNLISTED_RANK: dict[Impact, int] = {
    impact: 2 * max(i for i, (_, _, imp) in enumerate(SEVERITY_ORDER) if imp == impact) + 1 for impact in Impact
}

# Other annotators' names for Ensembl terms, used for ranking only (the allele keeps the term as
# written). snpEff splits in-frame indels by codon disruption and names one UTR case apart.
RANK_ALIASES: Mapping[str, str] = {
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "5_prime_UTR_premature_start_codon_gain_variant": "5_prime_UTR_variant",
    "non_coding_exon_variant": "non_coding_transcript_exon_variant",
    "nc_transcript_variant": "non_coding_transcript_variant",
}

# bcftools csq's own consequence names (bcftools(1), "Supported consequence types") as SO terms.
BCSQ_TERMS: Mapping[str, str] = {
    "3_prime_utr": "3_prime_UTR_variant",
    "5_prime_utr": "5_prime_UTR_variant",
    "coding_sequence": "coding_sequence_variant",
    "feature_elongation": "feature_elongation",
    "frameshift": "frameshift_variant",
    "inframe_altering": "protein_altering_variant",
    "inframe_deletion": "inframe_deletion",
    "inframe_insertion": "inframe_insertion",
    "intergenic": "intergenic_variant",
    "intron": "intron_variant",
    "missense": "missense_variant",
    "non_coding": "non_coding_transcript_variant",
    "splice_acceptor": "splice_acceptor_variant",
    "splice_donor": "splice_donor_variant",
    "splice_region": "splice_region_variant",
    "start_lost": "start_lost",
    "start_retained": "start_retained_variant",
    "stop_gained": "stop_gained",
    "stop_lost": "stop_lost",
    "stop_retained": "stop_retained_variant",
    "synonymous": "synonymous_variant",
}

# Every term name the tables above know (Ensembl's and other annotators' aliases).
KNOWN_TERMS: frozenset[str] = frozenset(_TERM_RANK) | frozenset(RANK_ALIASES)

# VEP writes a symbolic ALT's consequence under the SV class's SO term.
_SYMBOLIC_ALLELES = {
    "<DEL>": "deletion",
    "<DUP>": "duplication",
    "<DUP:TANDEM>": "tandem_duplication",
    "<INS>": "insertion",
    "<INV>": "inversion",
    "<CNV>": "copy_number_variation",
}

LOFTEE_VALUES = ("HC", "LC", "OS")  # high / low confidence LoF; OS: other splice (LOFTEE's README)


def consequence_rank(term: str, impact: Impact = Impact.MODIFIER) -> int:
    """Position in Ensembl's severity order (lower is more severe); see `_TERM_RANK` for unlisted terms."""
    rank = _TERM_RANK.get(RANK_ALIASES.get(term, term))
    return _UNLISTED_RANK[impact] if rank is None else rank


class TranscriptConsequence(NamedTuple):
    """One annotation entry: one allele on one transcript (or regulatory/intergenic feature)."""

    gene: str | None
    gene_id: str | None
    transcript: str | None
    biotype: str | None
    terms: tuple[str, ...]  # SO terms (bcftools names converted)
    impact: Impact
    rank: int  # of the most severe term
    hgvsc: str | None
    hgvsp: str | None
    canonical: bool  # VEP CANONICAL=YES, MANE_SELECT or PICK=1
    lof: str | None  # LOFTEE: HC, LC or OS
    lof_filter: str | None
    lof_flags: str | None
    pli: float | None
    loeuf: float | None
    protein_change: str | None = None  # bcftools amino_acid_change (not HGVS)
    dna_change: str | None = None  # bcftools dna_change
    downstream_of_stop: bool = False  # bcftools `*` prefix
    population_af: float | None = None  # the highest population AF column of the entry (VEP gnomADe_AF, MAX_AF...)


class LofCall(NamedTuple):
    """A transcript LOFTEE called loss-of-function for this allele."""

    gene: str | None
    transcript: str | None
    confidence: str  # HC, LC or OS
    filter: str | None
    flags: str | None


class GeneConstraint(NamedTuple):
    """LoF intolerance of a gene as the annotation carries it (None where it carries no value)."""

    gene: str
    pli: float | None
    loeuf: float | None


class AlleleConsequence(NamedTuple):
    """What the annotation says about one ALT allele, summed over its transcripts."""

    allele: int  # 1-based ALT index
    most_severe: str
    rank: int
    impact: Impact
    gene: str | None  # of the most severe consequence's representative transcript
    genes: tuple[str, ...]  # every gene named, most severe first
    hgvsc: str | None
    hgvsp: str | None
    terms: frozenset[str]
    lof: tuple[LofCall, ...]
    constraint: tuple[GeneConstraint, ...]
    transcripts: tuple[TranscriptConsequence, ...]
    compound: bool = False  # bcftools: reported with other records of a compound variant
    after_stop: bool = False  # bcftools: every consequence lies downstream of a stop (`*`)
    population_af: float | None = None  # the highest population AF any of its entries carries

    @property
    def lof_confidence(self) -> str | None:
        """The best LOFTEE call for this allele: HC before LC before OS; None without one."""
        calls = {c.confidence for c in self.lof}
        return next((v for v in LOFTEE_VALUES if v in calls), None)


class RecordConsequences(NamedTuple):
    """One record's annotation: per ALT (None where the annotation says nothing of that ALT)."""

    alleles: tuple[AlleleConsequence | None, ...]
    references: tuple[int, ...] = ()  # bcftools `@POS`: annotated at the record at POS


# --- columns -------------------------------------------------------------------------------------

# Constraint columns VEP plugins and custom annotations write (gene-level before transcript-level).
PLI_COLUMN = re.compile(r"(?i)(exac_?|gnomad_?)?pli(_gene_value|_transcript_value)?")
LOEUF_COLUMN = re.compile(r"(?i)loeuf|oe_lof_upper|lof\.oe_ci\.upper")
# Population allele frequencies, as INFO keys or annotation columns: VEP's AF (1000 Genomes), its
# continental AFR_AF..SAS_AF and AA_AF/EA_AF (ESP), MAX_AF, gnomADe_AF/gnomADg_AF and their
# populations, custom gnomAD/ExAC/TOPMed/SweGen columns, popmax/grpmax.
POPULATION_AF = re.compile(
    r"(?i)(max_af|af|(afr|amr|eas|eur|sas|aa|ea)_af|.*(gnomad|exac|topmed|1000g|1kg|esp|swegen|popmax|grpmax).*af.*)"
)


class AnnotationColumns(NamedTuple):
    """Where one annotation format writes each field an entry is read for (None: it does not)."""

    allele: int | None
    allele_num: int | None
    consequence: int
    impact: int | None
    gene: int | None
    gene_id: int | None
    transcript: int | None
    biotype: int | None
    hgvsc: int | None
    hgvsp: int | None
    canonical: int | None
    mane: int | None
    pick: int | None
    lof: int | None
    lof_filter: int | None
    lof_flags: int | None
    pli: int | None
    loeuf: int | None
    protein_change: int | None
    dna_change: int | None
    population_af: tuple[int, ...] = ()


def annotation_columns(fmt: AnnotationFormat) -> AnnotationColumns:
    """The columns of `fmt` by what they hold, under the names VEP, snpEff and bcftools csq give them."""
    c = fmt.column
    consequence = c("Consequence", "Annotation")
    assert consequence is not None  # parse_header requires it
    return AnnotationColumns(
        allele=c("Allele"),
        allele_num=c("ALLELE_NUM"),
        consequence=consequence,
        impact=c("IMPACT", "Annotation_Impact"),
        gene=c("SYMBOL", "Gene_Name", "gene"),
        gene_id=c("Gene", "Gene_ID"),
        transcript=c("Feature", "Feature_ID", "transcript"),
        biotype=c("BIOTYPE", "Transcript_BioType", "biotype"),
        hgvsc=c("HGVSc", "HGVS.c"),
        hgvsp=c("HGVSp", "HGVS.p"),
        canonical=c("CANONICAL"),
        mane=c("MANE_SELECT", "MANE"),
        pick=c("PICK"),
        lof=c("LoF"),
        lof_filter=c("LoF_filter"),
        lof_flags=c("LoF_flags"),
        pli=fmt.matching(PLI_COLUMN),
        loeuf=fmt.matching(LOEUF_COLUMN),
        protein_change=c("amino_acid_change") if fmt.kind is AnnotationKind.BCFTOOLS else None,
        dna_change=c("dna_change") if fmt.kind is AnnotationKind.BCFTOOLS else None,
        population_af=tuple(i for i, name in enumerate(fmt.columns) if POPULATION_AF.fullmatch(name)),
    )


# --- allele matching ---------------------------------------------------------------------------


def _minimal(ref: str, alt: str) -> str:
    """ALT with the prefix and suffix it shares with REF removed (VEP --minimal), `-` if emptied."""
    i = 0
    while i < min(len(ref), len(alt)) and ref[i] == alt[i]:
        i += 1
    r, a = ref[i:], alt[i:]
    j = 0
    while j < min(len(r), len(a)) and r[-1 - j] == a[-1 - j]:
        j += 1
    a = a[: len(a) - j] if j else a
    return a or "-"


def vep_alleles(ref: str, alts: Sequence[str]) -> dict[str, int]:
    """How VEP writes each ALT in the `Allele` column → 1-based ALT index.

    VEP's VCF convention (its Parser/VCF.pm): for an indel (an ALT of another length than REF)
    with one ALT, the first base is dropped when REF and ALT share it; with several ALTs, it is
    dropped from all of them only when REF and every ALT (ignoring `*`) share it. An emptied
    allele is written `-`. Alleles VEP wrote with `--minimal` (common prefix and suffix removed per
    ALT) are recognised too, and a symbolic ALT (`<DEL>`) matches the SV class VEP writes
    (`deletion`).
    """
    is_indel = any(len(a) != len(ref) or a[:1] in ("D", "I") for a in alts)
    written = list(alts)
    if is_indel:
        if len(alts) > 1:
            if len({s[:1] for s in (ref, *alts) if "*" not in s}) == 1:
                written = [a if "*" in a else (a[1:] or "-") for a in alts]
        elif ref[:1] == alts[0][:1]:
            written = [alts[0][1:] or "-"]
    # VEP's own spelling first; the VCF's and --minimal's only where they name no other ALT.
    out: dict[str, int] = {}
    for i, text in enumerate(written, start=1):
        out.setdefault(text, i)
    for i, alt in enumerate(alts, start=1):
        out.setdefault(_SYMBOLIC_ALLELES.get(alt.upper(), alt), i)
    minimal: dict[str, list[int]] = {}
    for i, alt in enumerate(alts, start=1):
        if not alt.startswith("<"):
            minimal.setdefault(_minimal(ref, alt), []).append(i)
    for text, indexes in minimal.items():
        if len(indexes) == 1:
            out.setdefault(text, indexes[0])
    return out


def summarise_allele(
    allele: int, found: Sequence[TranscriptConsequence], *, compound: bool = False
) -> AlleleConsequence:
    """One ALT's transcripts summed up: the most severe term (consequences bcftools marks downstream of
    a stop only when nothing else is said), its representative transcript (then PICK/MANE/canonical,
    then the annotator's order), the highest IMPACT, genes most severe first, LOFTEE calls, constraint."""
    confident = found
    if any(t.downstream_of_stop for t in found):
        confident = [t for t in found if not t.downstream_of_stop] or found
    # Representative: most severe; then PICK/MANE/canonical; then the annotator's order.
    top = confident[0]
    top_key = (top.rank, not top.canonical)
    impact = top.impact
    gene_rank: dict[str, int] = {}
    for t in confident:
        key = (t.rank, not t.canonical)
        if key < top_key:
            top, top_key = t, key
        if t.impact > impact:
            impact = t.impact
        if t.gene and t.rank < gene_rank.get(t.gene, 1 << 30):
            gene_rank[t.gene] = t.rank
    terms = top.terms
    most_severe = terms[0] if len(terms) == 1 else min(terms, key=lambda term: consequence_rank(term, top.impact))
    lof: tuple[LofCall, ...] = ()
    constraint: dict[str, GeneConstraint] = {}
    afs = [t.population_af for t in found if t.population_af is not None]
    for t in found:
        if t.lof is not None and not t.downstream_of_stop:
            lof += (LofCall(t.gene, t.transcript, t.lof, t.lof_filter, t.lof_flags),)
        if t.gene and (t.pli is not None or t.loeuf is not None) and t.gene not in constraint:
            constraint[t.gene] = GeneConstraint(t.gene, t.pli, t.loeuf)
    return AlleleConsequence(
        allele,
        most_severe,
        top.rank,
        impact,
        top.gene,
        tuple(sorted(gene_rank, key=gene_rank.__getitem__)) if len(gene_rank) > 1 else tuple(gene_rank),
        top.hgvsc,
        top.hgvsp,
        frozenset().union(*[t.terms for t in found]),
        lof,
        tuple(constraint.values()),
        tuple(found),
        compound or any(t.dna_change is not None and "+" in t.dna_change for t in found),
        top.downstream_of_stop,
        max(afs) if afs else None,
    )


CONSEQUENCE_SCHEMA = pa.schema(
    [
        pa.field("record", pa.int64(), nullable=False),  # index into the batch
        pa.field("allele", pa.int16(), nullable=False),  # 1-based ALT index
        pa.field("consequence", pa.string(), nullable=False),  # most severe SO term
        pa.field("consequence_rank", pa.int16(), nullable=False),  # lower is more severe
        pa.field("impact", pa.string(), nullable=False),
        pa.field("gene", pa.string()),
        pa.field("genes", pa.list_(pa.string())),
        pa.field("hgvsc", pa.string()),
        pa.field("hgvsp", pa.string()),
        pa.field("lof", pa.string()),  # best LOFTEE call: HC, LC, OS; null without one
        pa.field("pli", pa.float64()),  # of `gene`, where the annotation carries it
        pa.field("loeuf", pa.float64()),
        pa.field("compound", pa.bool_(), nullable=False),
        pa.field("after_stop", pa.bool_(), nullable=False),
    ]
)


def consequence_table(results: Iterable[RecordConsequences | None]) -> pa.Table:
    """One row per annotated (record, ALT) pair, for ranking and the results table."""
    rows: dict[str, list[object]] = {name: [] for name in CONSEQUENCE_SCHEMA.names}
    for i, record in enumerate(results):
        if record is None:
            continue
        for a in record.alleles:
            if a is None:
                continue
            gc = next((c for c in a.constraint if c.gene == a.gene), None)
            for name, value in (
                ("record", i),
                ("allele", a.allele),
                ("consequence", a.most_severe),
                ("consequence_rank", a.rank),
                ("impact", a.impact.name),
                ("gene", a.gene),
                ("genes", list(a.genes)),
                ("hgvsc", a.hgvsc),
                ("hgvsp", a.hgvsp),
                ("lof", a.lof_confidence),
                ("pli", gc.pli if gc else None),
                ("loeuf", gc.loeuf if gc else None),
                ("compound", a.compound),
                ("after_stop", a.after_stop),
            ):
                rows[name].append(value)
    return pa.Table.from_pydict(rows, schema=CONSEQUENCE_SCHEMA)
