"""Variant consequences from the annotations a VCF already carries: VEP `CSQ`, bcftools `BCSQ`, snpEff `ANN`.

Each annotator writes one INFO string per record, a comma-separated list of `|`-separated entries
whose columns its header line names (`Description="... Format: Allele|Consequence|IMPACT|..."`).
`parse_header` reads that description once; `annotate_record` splits one record's value and sums
it up per ALT allele: the Sequence Ontology terms, the most severe of them by Ensembl's order, the
highest IMPACT, the genes, the HGVS of a representative transcript, and the loss-of-function
evidence the annotation itself states (LOFTEE's `LoF` = HC/LC/OS; pLI and LOEUF columns from VEP
plugins). Nothing here predicts a consequence: a record without an annotation gets none (see
`interpret/raredisease/regions.py` for the coarse class from the gene models instead), and a
column the annotation lacks stays None, so later rules (ACMG PVS1) cannot claim more than the
annotation says.

Which allele an entry belongs to:

* VEP `CSQ`: the `ALLELE_NUM` column when present (`--allele_number`; 1-based ALT index),
  otherwise the `Allele` column as VEP spells ALTs (`consequence_terms.vep_alleles`).
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
info_fields=frozenset({"CSQ"}))` gives (one string per record), or a stored allele's
`variant_info` JSON; the header description is the `##INFO=<ID=CSQ,...,Description="...">` line
(`parse_header_line`), `VcfHeader.info_descriptions` at ingest, which keeps the annotation fields'
descriptions (`annotation_fields`) with each file's `variants` parts for later readers (Beacon's
aminoacidChange).

The vocabulary (SO terms, severity, IMPACT, result types, how VEP spells alleles, how an allele's
transcripts are summed up) is `consequence_terms`.

Cost: splitting the strings is the one per-record Python loop of the rare-disease path (about
3.5 s per 100k VEP records of 5 transcripts × 42 columns on a busy 2-core machine; ~7 µs per
transcript entry). Run it after the cheap vectorised filters (quality, frequency, region):
`annotate_records(..., keep=mask)` parses only the records the mask keeps, so a WGS trio parses
the thousands of survivors, not 4.5 million records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt

from genomenode.domain.consequence_terms import (
    BCSQ_TERMS,
    KNOWN_TERMS,
    LOFTEE_VALUES,
    RANK_ALIASES,
    TERM_IMPACT,
    AnnotationKind,
    Impact,
    RecordConsequences,
    TranscriptConsequence,
    annotation_columns,
    consequence_rank,
    summarise_allele,
    vep_alleles,
)
from genomenode.errors import AnnotationError

_TERM = re.compile(r"[A-Za-z0-9_]+")
_BCSQ_CHANGE = re.compile(r"(\d+)([A-Za-z*]+)>([A-Za-z*]*)")


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

    @property
    def carries_protein_changes(self) -> bool:
        """Whether its entries can name a protein change: an HGVSp column (VEP `--hgvs`, snpEff's
        HGVS.p) or bcftools' amino_acid_change."""
        return self._ctx.cols.hgvsp is not None or self._ctx.cols.protein_change is not None

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


def annotation_fields(descriptions: Mapping[str, str]) -> dict[str, str]:
    """INFO key → header description, for the fields that lay out a VEP, bcftools csq or snpEff
    annotation (`parse_header` reads them); plain INFO fields, and a field whose Format cannot be
    read, are left out. What ingest keeps beside a file's alleles, so the values can be read later."""
    out: dict[str, str] = {}
    for key, description in descriptions.items():
        try:
            parse_header(key, description)
        except AnnotationError:
            continue
        out[key] = description
    return out


# --- one record ----------------------------------------------------------------------------------


_IMPACTS = {i.name: i for i in Impact}
_checked_terms: set[str] = set(KNOWN_TERMS)
_CACHE_LIMIT = 100_000


class _Context:
    """Per-format state reused across records: column getters, caches and the error prefix.

    An entry's fields are padded with one empty string at index `n_columns`, which stands for
    every column the format lacks, so one `itemgetter` call reads all the columns an entry needs.
    """

    def __init__(self, fmt: AnnotationFormat) -> None:
        self.fmt = fmt
        self.cols = c = annotation_columns(fmt)
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
        self.population_af = itemgetter(*c.population_af) if c.population_af else None
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

    def frequency(self, where: str, entry: int, fields: list[str]) -> float | None:
        """The highest of the entry's population AF columns; `&`-joined values (VEP's co-located
        variants) count each, empty and `.` cells none."""
        if self.population_af is None:
            return None
        cells = self.population_af(fields)
        best: float | None = None
        for column, raw in zip(self.cols.population_af, (cells,) if isinstance(cells, str) else cells, strict=True):
            for part in raw.split("&") if raw else ():
                value = self.number(where, entry, column, part)
                if value is not None and (best is None or value > best):
                    best = value
        return best


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
        ctx.frequency(where, entry, fields),
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
        tuple([summarise_allele(i, got) if got else None for i, got in enumerate(per_allele, start=1)]),
        tuple(references),
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
            (
                summarise_allele(k, [*(own.transcripts if own is not None else ()), *more], compound=True)
                if more
                else own
            )
            for k, (own, more) in enumerate(zip(record.alleles, extra, strict=True), start=1)
        )
        out[i] = RecordConsequences(alleles, record.references)
