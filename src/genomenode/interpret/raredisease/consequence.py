"""Variant consequences from the annotations a VCF already carries: VEP `CSQ`, bcftools `BCSQ`, snpEff `ANN`.

Each annotator writes one INFO string per record, a comma-separated list of `|`-separated entries
whose columns its header line names (`Description="... Format: Allele|Consequence|IMPACT|..."`).
`parse_header` reads that description once; `annotate_record` splits one record's value and sums
it up per ALT allele: the Sequence Ontology terms, the most severe of them by Ensembl's order, the
highest IMPACT, the genes, the HGVS of a representative transcript, and the loss-of-function
evidence the annotation itself states (LOFTEE's `LoF` = HC/LC/OS; pLI and LOEUF columns from VEP
plugins). Nothing here predicts a consequence: a record without an annotation gets none (see
`regions.py` for the coarse class from the gene models instead), and a column the annotation
lacks stays None, so later rules (ACMG PVS1) cannot claim more than the annotation says.

Which allele an entry belongs to:

* VEP `CSQ`: the `ALLELE_NUM` column when present (`--allele_number`; 1-based ALT index).
  Otherwise the `Allele` column, in VEP's VCF convention (its Parser/VCF.pm): for an indel
  (an ALT of another length than REF) with one ALT, the first base is dropped when REF and ALT
  share it; with several ALTs, it is dropped from all of them only when REF and every ALT
  (ignoring `*`) share it. An emptied allele is written `-`. Alleles VEP wrote with `--minimal`
  (common prefix and suffix removed per ALT) are recognised too, and a symbolic ALT (`<DEL>`)
  matches the SV class VEP writes (`deletion`).
* snpEff `ANN`: the `Allele` column is the ALT as written in the VCF.
* bcftools `BCSQ` has no allele column. Its last column (`dna_change`, e.g. `105T>A` or, for a
  compound variant, `122106101G>A+122106102G>A`) names the record's position and alleles; an
  entry without it (bcftools writes only `Consequence|gene|transcript|biotype` for UTR, intron
  and splice consequences) applies to every ALT of the record, as a position-only consequence
  does. `@POS` entries say the consequence was reported at the record at POS (haplotype-aware
  calling of compound variants); `annotate_records` resolves them within a batch. A consequence
  bcftools prefixes with `*` lies downstream of a stop in the same haplotype: it is kept with
  `downstream_of_stop=True` but never chosen as the allele's most severe while an unstarred one
  exists, and never counted as loss-of-function evidence.

Where the inputs come from: the INFO value is what `ingest.vcf.iter_records(...,
info_fields=frozenset({"CSQ"}))` gives (one string per record); the header description is the
`##INFO=<ID=CSQ,...,Description="...">` line (`parse_header_line`), which `VcfHeader` does not
keep today.

Cost: splitting the strings is the one per-record Python loop of the rare-disease path (about
3.5 s per 100k VEP records of 5 transcripts × 42 columns on a busy 2-core machine; ~7 µs per
transcript entry). Run it after the cheap vectorised filters (quality, frequency, region):
`annotate_records(..., keep=mask)` parses only the records the mask keeps, so a WGS trio parses
the thousands of survivors, not 4.5 million records.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.errors import AnnotationError


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
_TERM = re.compile(r"[A-Za-z0-9_]+")
_PLI_COLUMN = re.compile(r"(?i)(exac_?|gnomad_?)?pli(_gene_value|_transcript_value)?")
_LOEUF_COLUMN = re.compile(r"(?i)loeuf|oe_lof_upper|lof\.oe_ci\.upper")
_BCSQ_CHANGE = re.compile(r"(\d+)([A-Za-z*]+)>([A-Za-z*]*)")


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

    @property
    def lof_confidence(self) -> str | None:
        """The best LOFTEE call for this allele: HC before LC before OS; None without one."""
        calls = {c.confidence for c in self.lof}
        return next((v for v in LOFTEE_VALUES if v in calls), None)


class RecordConsequences(NamedTuple):
    """One record's annotation: per ALT (None where the annotation says nothing of that ALT)."""

    alleles: tuple[AlleleConsequence | None, ...]
    references: tuple[int, ...] = ()  # bcftools `@POS`: annotated at the record at POS


@dataclass(frozen=True)
class AnnotationFormat:
    """The columns of one annotation field, from its header description."""

    kind: AnnotationKind
    field_id: str  # the INFO key (CSQ, BCSQ, ANN or a custom name)
    columns: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False, default_factory=dict)
    _ctx: _Context = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for i, name in enumerate(self.columns):
            self._index.setdefault(name, i)
        object.__setattr__(self, "_ctx", _Context(self))

    def column(self, *names: str) -> int | None:
        return next((self._index[n] for n in names if n in self._index), None)

    def matching(self, pattern: re.Pattern[str]) -> int | None:
        """The first column whose whole name matches `pattern` (gene-level pLI before transcript-level)."""
        hits = [i for i, name in enumerate(self.columns) if pattern.fullmatch(name)]
        hits.sort(key=lambda i: "transcript" in self.columns[i].lower())
        return hits[0] if hits else None


def parse_header(field_id: str, description: str, *, kind: AnnotationKind | None = None) -> AnnotationFormat:
    """The column layout of INFO/`field_id` from its header `Description`.

    The annotator is recognised from the description (VEP: "Ensembl VEP ... Format: Allele|...",
    bcftools: "BCFtools/csq ... Format: Consequence|gene|...", snpEff: "Functional annotations:
    'Allele | Annotation | ...'"), else from the key (CSQ, BCSQ, ANN), unless `kind` says.
    """
    text = description.strip().strip('"').strip()
    if kind is None:
        if "BCFtools/csq" in text or field_id == "BCSQ":
            kind = AnnotationKind.BCFTOOLS
        elif "Functional annotations" in text or field_id == "ANN":
            kind = AnnotationKind.SNPEFF
        elif "VEP" in text or field_id == "CSQ":
            kind = AnnotationKind.VEP
        else:
            raise AnnotationError(
                f"INFO/{field_id}: the header description does not say which annotator wrote it "
                f"({text[:80]!r}); expected VEP's 'Format: Allele|Consequence|...', bcftools csq's or "
                "snpEff's 'Functional annotations: ...'"
            )
    if kind is AnnotationKind.SNPEFF:
        quoted = re.search(r"'([^']*)'", text)
        layout = quoted.group(1) if quoted else text.split(":", 1)[-1]
    else:
        match = re.search(r"Format:\s*(.*)$", text)
        if match is None:
            raise AnnotationError(
                f"INFO/{field_id}: the header description has no 'Format: ...' listing the columns "
                f"({text[:80]!r}); the annotation cannot be read without it"
            )
        layout = match.group(1)
    columns = tuple(c.strip() for c in layout.strip().strip("'\"").split("|"))
    if any(not c for c in columns):
        raise AnnotationError(f"INFO/{field_id}: the header's Format has an empty column name ({layout!r})")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise AnnotationError(f"INFO/{field_id}: the header's Format names {', '.join(duplicated)} more than once")
    required = {
        AnnotationKind.VEP: ("Allele", "Consequence"),
        AnnotationKind.SNPEFF: ("Allele", "Annotation"),
        AnnotationKind.BCFTOOLS: ("Consequence",),
    }[kind]
    missing = [c for c in required if c not in columns]
    if missing:
        raise AnnotationError(
            f"INFO/{field_id}: the header's Format ({'|'.join(columns)}) has no {', '.join(missing)} column; "
            f"a {kind.name} annotation needs {' and '.join(required)}"
        )
    return AnnotationFormat(kind, field_id, columns)


def parse_header_line(line: str) -> AnnotationFormat:
    """Same, from a whole `##INFO=<ID=CSQ,...,Description="...">` header line."""
    ident = re.search(r"[<,]ID=([^,>]+)", line)
    desc = re.search(r'Description="((?:[^"\\]|\\.)*)"', line)
    if not line.startswith("##INFO=<") or ident is None or desc is None:
        raise AnnotationError(f"not an INFO header line with an ID and a Description: {line[:100]!r}")
    return parse_header(ident.group(1), desc.group(1))


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
    """How VEP writes each ALT in the `Allele` column → 1-based ALT index (see the module docstring)."""
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


# --- one record ----------------------------------------------------------------------------------


class _Columns(NamedTuple):
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


def _columns(fmt: AnnotationFormat) -> _Columns:
    c = fmt.column
    consequence = c("Consequence", "Annotation")
    assert consequence is not None  # parse_header requires it
    return _Columns(
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
        pli=fmt.matching(_PLI_COLUMN),
        loeuf=fmt.matching(_LOEUF_COLUMN),
        protein_change=c("amino_acid_change") if fmt.kind is AnnotationKind.BCFTOOLS else None,
        dna_change=c("dna_change") if fmt.kind is AnnotationKind.BCFTOOLS else None,
    )


_IMPACTS = {i.name: i for i in Impact}
_checked_terms: set[str] = set(_TERM_RANK) | set(RANK_ALIASES)
_CACHE_LIMIT = 100_000


class _Context:
    """Per-format state reused across records: column getters, caches and the error prefix.

    An entry's fields are padded with one empty string at index `n_columns`, which stands for
    every column the format lacks, so one `itemgetter` call reads all the columns an entry needs.
    """

    def __init__(self, fmt: AnnotationFormat) -> None:
        self.fmt = fmt
        self.cols = c = _columns(fmt)
        self.n_columns = n = len(fmt.columns)

        def ix(i: int | None) -> int:
            return n if i is None else i

        self.flags = itemgetter(
            c.consequence, ix(c.impact), ix(c.lof), ix(c.canonical), ix(c.mane), ix(c.pick), ix(c.pli), ix(c.loeuf)
        )
        self.names = itemgetter(ix(c.gene), ix(c.gene_id), ix(c.transcript), ix(c.biotype))
        self.details = itemgetter(
            ix(c.hgvsc), ix(c.hgvsp), ix(c.lof_filter), ix(c.lof_flags), ix(c.protein_change), ix(c.dna_change)
        )
        self.allele = itemgetter(ix(c.allele), ix(c.allele_num))
        self.term_cache: dict[tuple[str, str], tuple[tuple[str, ...], bool, Impact, int]] = {}
        self.number_cache: dict[tuple[int, str], float | None] = {}

    def fail(self, where: str, entry: int, what: str) -> AnnotationError:
        prefix = f"{where}: " if where else ""
        return AnnotationError(f"{prefix}INFO/{self.fmt.field_id} entry {entry}: {what}")

    def terms(self, where: str, entry: int, raw: str, impact_raw: str) -> tuple[tuple[str, ...], bool, Impact, int]:
        """Terms, bcftools' `*`, IMPACT and rank of one Consequence/IMPACT pair (cached: they repeat)."""
        cached = self.term_cache.get((raw, impact_raw))
        if cached is not None:
            return cached
        starred, text = False, raw
        if self.fmt.kind is AnnotationKind.BCFTOOLS and text.startswith("*"):
            starred, text = True, text[1:]
        if not text:
            raise self.fail(where, entry, f"column {self.fmt.columns[self.cols.consequence]} is empty")
        terms = text.split("&")
        if self.fmt.kind is AnnotationKind.BCFTOOLS:
            terms = [BCSQ_TERMS.get(t, t) for t in terms]
        for term in terms:
            if term not in _checked_terms:
                if not _TERM.fullmatch(term):
                    raise self.fail(
                        where,
                        entry,
                        f"consequence term {term!r} is not a Sequence Ontology term name (letters, digits, _)",
                    )
                _checked_terms.add(term)
        if impact_raw:
            found = _IMPACTS.get(impact_raw)
            if found is None:
                assert self.cols.impact is not None
                raise self.fail(
                    where,
                    entry,
                    f"column {self.fmt.columns[self.cols.impact]} is {impact_raw!r}, "
                    "not one of HIGH, MODERATE, LOW, MODIFIER",
                )
            impact = found
        else:
            impact = max(TERM_IMPACT.get(RANK_ALIASES.get(t, t), Impact.MODIFIER) for t in terms)
        result = (tuple(terms), starred, impact, min(consequence_rank(t, impact) for t in terms))
        if len(self.term_cache) < _CACHE_LIMIT:
            self.term_cache[(raw, impact_raw)] = result
        return result

    def number(self, where: str, entry: int, column: int | None, raw: str) -> float | None:
        if column is None or raw in ("", "."):
            return None
        key = (column, raw)
        if key in self.number_cache:
            return self.number_cache[key]
        try:
            value = float(raw.split("&")[0])
        except ValueError:
            raise self.fail(
                where, entry, f"column {self.fmt.columns[column]} is {raw!r}, not a number; the annotation is corrupt"
            ) from None
        if not np.isfinite(value) or value < 0:
            raise self.fail(where, entry, f"column {self.fmt.columns[column]} is {raw!r}, not a non-negative number")
        if len(self.number_cache) < _CACHE_LIMIT:
            self.number_cache[key] = value
        return value


def _text(value: str) -> str | None:
    if not value:
        return None
    return unquote(value) if "%" in value else value


def _entry(ctx: _Context, where: str, entry: int, fields: list[str]) -> TranscriptConsequence:
    """One entry's fields (padded, see `_Context`) → its consequence."""
    consequence, impact_raw, lof, canonical, mane, pick, pli, loeuf = ctx.flags(fields)
    terms, starred, impact, rank = ctx.terms(where, entry, consequence, impact_raw)
    if lof and lof not in LOFTEE_VALUES:
        raise ctx.fail(where, entry, f"column LoF is {lof!r}; LOFTEE writes HC, LC, OS or nothing")
    gene, gene_id, transcript, biotype = ctx.names(fields)
    hgvsc, hgvsp, lof_filter, lof_flags, protein_change, dna_change = ctx.details(fields)
    return TranscriptConsequence(
        gene or None,
        gene_id or None,
        transcript or None,
        biotype or None,
        terms,
        impact,
        rank,
        _text(hgvsc),
        _text(hgvsp),
        canonical == "YES" or bool(mane) or pick == "1",
        lof or None,
        lof_filter or None,
        lof_flags or None,
        ctx.number(where, entry, ctx.cols.pli, pli) if pli else None,
        ctx.number(where, entry, ctx.cols.loeuf, loeuf) if loeuf else None,
        protein_change or None,
        dna_change or None,
        starred,
    )


def _bcsq_alleles(
    ctx: _Context, where: str, entry: int, change: str | None, pos: int | None, ref: str, alts: Sequence[str]
) -> list[int]:
    """The ALTs a bcftools entry is about: from its dna_change at this record's position, else all."""
    if not change or pos is None:
        return list(range(1, len(alts) + 1))
    hits: list[int] = []
    for part in change.split("+"):
        match = _BCSQ_CHANGE.fullmatch(part)
        if match is None:
            raise ctx.fail(where, entry, f"column dna_change is {change!r}; bcftools writes POSREF>ALT joined by +")
        if int(match.group(1)) != pos:
            continue
        if match.group(2).upper() != ref.upper():
            raise ctx.fail(where, entry, f"dna_change {part!r} has REF {match.group(2)}, but the record's is {ref}")
        alt = match.group(3).upper()
        index = next((i for i, a in enumerate(alts, start=1) if a.upper() == alt), None)
        if index is None:
            raise ctx.fail(
                where, entry, f"dna_change {part!r} names ALT {alt}, which the record ({','.join(alts)}) lacks"
            )
        hits.append(index)
    return hits


def annotate_record(
    fmt: AnnotationFormat,
    value: str | None,
    ref: str,
    alts: Sequence[str],
    *,
    pos: int | None = None,
    where: str = "",
) -> RecordConsequences:
    """One record's annotation value (the INFO string) per ALT allele.

    `pos` (the record's POS) is needed for bcftools' dna_change; `where` names the record in
    errors ("record 12 (chr1:12345)"). Raises AnnotationError for an entry that disagrees with
    the header (wrong column count, unknown IMPACT or LoF value, an allele the record lacks).
    """
    if value is None or value in ("", "."):
        return RecordConsequences((None,) * len(alts))
    ctx = fmt._ctx
    kind = fmt.kind
    n_columns = ctx.n_columns
    per_allele: list[list[TranscriptConsequence]] = [[] for _ in alts]
    references: list[int] = []
    allele_map: dict[str, int] | None = None
    numbers = {str(i): i for i in range(1, len(alts) + 1)}
    for entry, text in enumerate(value.split(","), start=1):
        fields = text.split("|")
        if kind is AnnotationKind.BCFTOOLS:
            if text.startswith("@"):
                if not text[1:].isdigit():
                    raise ctx.fail(where, entry, f"{text!r}: a bcftools reference is @ and a position")
                references.append(int(text[1:]))
                continue
            if not 4 <= len(fields) <= n_columns:
                raise ctx.fail(
                    where,
                    entry,
                    f"has {len(fields)} fields; bcftools writes 4 to {n_columns} ({'|'.join(fmt.columns)})",
                )
            fields.extend([""] * (n_columns + 1 - len(fields)))
            consequence = _entry(ctx, where, entry, fields)
            for index in _bcsq_alleles(ctx, where, entry, consequence.dna_change, pos, ref, alts):
                per_allele[index - 1].append(consequence)
            continue
        if len(fields) != n_columns:
            raise ctx.fail(
                where,
                entry,
                f"has {len(fields)} fields but the header's Format names {n_columns} "
                f"({'|'.join(fmt.columns[:4])}|...); the values and the header come from different runs",
            )
        fields.append("")
        consequence = _entry(ctx, where, entry, fields)
        allele, allele_num = ctx.allele(fields)
        if allele_num:
            found = numbers.get(allele_num)
            if found is None:
                raise ctx.fail(where, entry, f"ALLELE_NUM is {allele_num!r}; the record has ALTs 1..{len(alts)}")
        else:
            if not allele:
                raise ctx.fail(where, entry, "column Allele is empty")
            if kind is AnnotationKind.SNPEFF:
                found = next((i for i, a in enumerate(alts, start=1) if a == allele), None)
            else:
                if allele_map is None:
                    allele_map = vep_alleles(ref, alts)
                found = allele_map.get(allele)
            if found is None:
                raise ctx.fail(
                    where,
                    entry,
                    f"Allele {allele!r} is none of the record's ALTs ({','.join(alts)}) as "
                    f"{'snpEff' if kind is AnnotationKind.SNPEFF else 'VEP'} writes them; "
                    "annotate with --allele_number or check that the VCF was not re-normalised after annotation",
                )
        per_allele[found - 1].append(consequence)
    return RecordConsequences(
        tuple([_summarise(i, got) if got else None for i, got in enumerate(per_allele, start=1)]),
        tuple(references),
    )


def _summarise(allele: int, found: Sequence[TranscriptConsequence], *, compound: bool = False) -> AlleleConsequence:
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
    )


# --- many records -----------------------------------------------------------------------------


def annotate_records(
    fmt: AnnotationFormat,
    values: Sequence[str | None],
    *,
    refs: Sequence[str],
    alts: Sequence[Sequence[str]],
    chroms: Sequence[str] | None = None,
    positions: Sequence[int] | npt.NDArray[np.integer] | None = None,
    keep: npt.NDArray[np.bool_] | None = None,
    source: str = "",
) -> list[RecordConsequences | None]:
    """`annotate_record` over a batch; None for records `keep` leaves out (they are not parsed).

    With `chroms` and `positions`, bcftools `@POS` references are resolved inside the batch: the
    referring record's ALT gets the consequences reported at POS whose dna_change names it,
    marked `compound=True`. Put both records of a compound variant in the same batch (keep both).
    """
    n = len(values)
    if keep is not None and len(keep) != n:
        raise ValueError(f"keep has {len(keep)} entries for {n} records")
    out: list[RecordConsequences | None] = [None] * n
    indices = range(n) if keep is None else np.flatnonzero(keep).tolist()
    for i in indices:
        pos = int(positions[i]) if positions is not None else None
        where = f"{source + ': ' if source else ''}record {i + 1}" + (
            f" ({chroms[i]}:{pos})" if chroms is not None and pos is not None else ""
        )
        out[i] = annotate_record(fmt, values[i], refs[i], alts[i], pos=pos, where=where)
    if fmt.kind is AnnotationKind.BCFTOOLS and chroms is not None and positions is not None:
        _resolve_references(out, refs, alts, chroms, positions)
    return out


def _resolve_references(
    out: list[RecordConsequences | None],
    refs: Sequence[str],
    alts: Sequence[Sequence[str]],
    chroms: Sequence[str],
    positions: Sequence[int] | npt.NDArray[np.integer],
) -> None:
    referring = [i for i, r in enumerate(out) if r is not None and r.references]
    if not referring:
        return
    at: dict[tuple[str, int], list[int]] = {}
    for i, r in enumerate(out):
        if r is not None:
            at.setdefault((chroms[i], int(positions[i])), []).append(i)
    for i in referring:
        record = out[i]
        assert record is not None
        pos = int(positions[i])
        wanted = {f"{pos}{refs[i].upper()}>{a.upper()}": k for k, a in enumerate(alts[i], start=1)}
        extra: list[list[TranscriptConsequence]] = [[] for _ in alts[i]]
        for target_pos in record.references:
            for j in at.get((chroms[i], target_pos), []):
                target = out[j]
                assert target is not None
                seen: set[int] = set()
                for allele in target.alleles:
                    for t in allele.transcripts if allele is not None else ():
                        if id(t) in seen:
                            continue
                        seen.add(id(t))
                        for part in (t.dna_change or "").upper().split("+"):
                            if part in wanted:
                                extra[wanted[part] - 1].append(t)
        alleles = tuple(
            (_summarise(k, [*(own.transcripts if own is not None else ()), *more], compound=True) if more else own)
            for k, (own, more) in enumerate(zip(record.alleles, extra, strict=True), start=1)
        )
        out[i] = RecordConsequences(alleles, record.references)


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
