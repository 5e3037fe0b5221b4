"""Sample sheets: the TSV a regional centre sends with its VCFs.

Columns (header required, any order, case-insensitive): sample_id, subject_id, sex, population,
centre (or region), consent, phenotypes, diseases, age. Only sample_id is mandatory; a missing
subject_id means the sample id is the subject, missing sex/population become "unknown", a missing
centre is the --centre option, and a missing consent is "unknown" (no research use is assumed).

What the person's clinicians know, all optional (an empty cell says nothing):

* phenotypes (or hpo, hpo_terms): HPO ids separated by `;` or `,`, e.g. `HP:0001250;HP:0001249`;
  a leading `-` or `!` marks a feature looked for and found absent (`-HP:0001638`). Each id must
  be a current term of the node's HPO release; an alternative id is stored as its primary term.
* diseases (or disease, diagnosis): OMIM, ORPHA or MONDO ids, e.g. `OMIM:607208;ORPHA:33069`.
* age (or age_years): age at sample collection, in years (`42`, `42.5`) or as an ISO 8601
  duration (`P42Y6M`).

A sheet that gives them replaces what the catalog held for that person, column by column; rows of
one person (several samples) must agree.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from genomenode.domain.phenotypes import is_disease_id, is_hpo_id, normalise_curie, parse_age_years
from genomenode.domain.samples import SampleRecord, Sex
from genomenode.errors import DuplicateSampleError, SampleSheetError, listing

# Maps an HPO id to the current term it stands for; raises LookupError saying why it cannot be used.
HpoResolver = Callable[[str], str]

_ALIASES = {
    "sample": "sample_id",
    "sample_id": "sample_id",
    "sampleid": "sample_id",
    "subject": "subject_id",
    "subject_id": "subject_id",
    "individual_id": "subject_id",
    "person_id": "subject_id",
    "sex": "sex",
    "gender": "sex",
    "population": "population",
    "ancestry": "population",
    "pop": "population",
    "centre": "centre",
    "center": "centre",
    "region": "centre",
    "consent": "consent",
    "duo": "consent",
    "consent_codes": "consent",
    "phenotypes": "phenotypes",
    "phenotype": "phenotypes",
    "hpo": "phenotypes",
    "hpo_terms": "phenotypes",
    "hpo_ids": "phenotypes",
    "phenotypic_features": "phenotypes",
    "diseases": "diseases",
    "disease": "diseases",
    "diagnosis": "diseases",
    "diagnoses": "diseases",
    "age": "age",
    "age_years": "age",
    "age_at_collection": "age",
}


def read_sample_sheet(path: Path, *, default_centre: str, resolve_hpo: HpoResolver | None = None) -> list[SampleRecord]:
    """The sheet's rows. `resolve_hpo` checks each HPO id against the ontology (the ingest passes
    one backed by `store.hpo`); without it ids are only checked for their form."""
    if not path.exists():
        raise SampleSheetError(f"{path}: sample sheet not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SampleSheetError(f"{path}: not UTF-8 text ({exc}); save the sample sheet as UTF-8 TSV") from exc
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("##")]
    if not lines:
        raise SampleSheetError(f"{path}: empty sample sheet; it needs a header line and one row per sample")
    reader = csv.reader(lines, delimiter="\t")
    header = [h.strip().lstrip("#").lower() for h in next(reader)]
    columns = [_ALIASES.get(h) for h in header]
    if "sample_id" not in columns:
        raise SampleSheetError(
            f"{path}: line 1: no sample_id column (found {', '.join(header)}); the header must name "
            "sample_id and may name subject_id, sex, population, centre, consent, phenotypes, diseases, age, "
            "separated by tabs"
        )
    records: list[SampleRecord] = []
    seen: dict[str, int] = {}
    told: dict[str, dict[str, tuple[object, SampleRecord]]] = {}  # subject → column → (value, first row giving it)
    for line_no, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise SampleSheetError(f"{path}: line {line_no}: {len(row)} columns, the header has {len(header)}")
        values = {col: cell.strip() for col, cell in zip(columns, row, strict=True) if col}
        sample_id = values["sample_id"]
        if not sample_id:
            raise SampleSheetError(f"{path}: line {line_no}: empty sample_id")
        if sample_id in seen:
            raise DuplicateSampleError(
                f"{path}: line {line_no}: sample {sample_id!r} already listed on line {seen[sample_id]}"
            )
        seen[sample_id] = line_no
        sex = Sex.parse(values.get("sex", "unknown"))
        if sex is None:
            raise SampleSheetError(
                f"{path}: line {line_no}: sex {values['sex']!r} for {sample_id!r}; use female, male or unknown"
            )
        where = f"{path}: line {line_no}"
        present, excluded = _phenotypes(values.get("phenotypes", ""), where, sample_id, resolve_hpo)
        record = SampleRecord(
            sample_id=sample_id,
            subject_id=values.get("subject_id") or sample_id,
            sex=sex,
            population=values.get("population") or "unknown",
            centre=values.get("centre") or default_centre,
            consent=values.get("consent") or "unknown",
            line=line_no,
            phenotypes=present,
            excluded_phenotypes=excluded,
            diseases=_diseases(values.get("diseases", ""), where, sample_id),
            age_years=_age(values.get("age", ""), where, sample_id),
        )
        _check_same_person(record, told, where)
        records.append(record)
    return records


def _split(cell: str) -> list[str]:
    return [item.strip() for item in cell.replace(",", ";").split(";") if item.strip()]


def _phenotypes(
    cell: str, where: str, sample_id: str, resolve_hpo: HpoResolver | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    present: dict[str, None] = {}
    excluded: dict[str, None] = {}
    for item in _split(cell):
        negated = item[0] in "-!"
        term = normalise_curie(item[1:] if negated else item)
        if not is_hpo_id(term):
            raise SampleSheetError(
                f"{where}: phenotype {item!r} of {sample_id!r} is not an HPO id; write HP: and seven digits "
                "(HP:0001250), several separated by ';', a leading '-' for a feature looked for and absent"
            )
        if resolve_hpo is not None:
            try:
                term = resolve_hpo(term)
            except LookupError as exc:
                reason = exc.args[0] if exc.args else f"{term} is not in the node's HPO release"
                raise SampleSheetError(f"{where}: phenotype of {sample_id!r}: {reason}") from None
        (excluded if negated else present)[term] = None
    both = [t for t in present if t in excluded]
    if both:
        raise SampleSheetError(
            f"{where}: {listing(both)} of {sample_id!r} is given both as present and as excluded ('-'); keep one"
        )
    return tuple(present), tuple(excluded)


def _diseases(cell: str, where: str, sample_id: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for item in _split(cell):
        term = normalise_curie(item)
        if not is_disease_id(term):
            raise SampleSheetError(
                f"{where}: disease {item!r} of {sample_id!r} is not an OMIM, ORPHA or MONDO id; write e.g. "
                "OMIM:607208 (six digits), ORPHA:33069 or MONDO:0100135 (seven digits), separated by ';'"
            )
        out[term] = None
    return tuple(out)


def _age(cell: str, where: str, sample_id: str) -> float | None:
    if not cell.strip():
        return None
    try:
        return parse_age_years(cell)
    except ValueError as exc:
        raise SampleSheetError(
            f"{where}: {exc} for {sample_id!r}; give the age at sample collection in years (42 or 42.5) "
            "or as an ISO 8601 duration (P42Y6M)"
        ) from None


def _check_same_person(
    record: SampleRecord, told: dict[str, dict[str, tuple[object, SampleRecord]]], where: str
) -> None:
    """Two samples of one person must not tell different stories of their health."""
    given: dict[str, object] = {
        "phenotypes": (frozenset(record.phenotypes), frozenset(record.excluded_phenotypes)),
        "diseases": frozenset(record.diseases),
        "age": record.age_years,
    }
    if not (record.phenotypes or record.excluded_phenotypes):
        del given["phenotypes"]
    if not record.diseases:
        del given["diseases"]
    if record.age_years is None:
        del given["age"]
    person = told.setdefault(record.subject_id, {})
    for column, value in given.items():
        before = person.setdefault(column, (value, record))
        if before[0] != value:
            first = before[1]
            raise SampleSheetError(
                f"{where}: {column} of sample {record.sample_id!r} differ from line {first.line} "
                f"({first.sample_id!r}), another sample of the same person; give the same {column} on both rows "
                "or leave one empty"
            )


def default_records(sample_ids: Iterable[str], *, centre: str) -> list[SampleRecord]:
    """Without a sample sheet each VCF sample is its own subject, of unknown sex and population."""
    return [SampleRecord(s, s, Sex.UNKNOWN, "unknown", centre, "unknown") for s in sample_ids]


def match_sheet_to_vcf(
    sheet: dict[str, SampleRecord], vcf_samples: Iterable[str], *, vcf: Path, sheet_path: Path
) -> list[SampleRecord]:
    """Every VCF sample must be in the sheet; the sheet may list samples of other files."""
    missing = [s for s in vcf_samples if s not in sheet]
    if missing:
        raise SampleSheetError(
            f"{vcf}: samples not in the sample sheet {sheet_path}: {listing(missing)}; "
            "add a row for each sample in the VCF's #CHROM line"
        )
    return [sheet[s] for s in vcf_samples]


def check_sheet_used(sheet: dict[str, SampleRecord], vcf_samples: set[str], *, sheet_path: Path) -> None:
    """A sheet row without a VCF column is a mix-up (wrong sheet, missing file): refuse it."""
    extra = [s for s in sheet if s not in vcf_samples]
    if extra:
        raise SampleSheetError(
            f"{sheet_path}: samples in the sheet but in none of the VCFs: {listing(extra)}; "
            "remove them from the sheet or add their VCFs to this submission"
        )
