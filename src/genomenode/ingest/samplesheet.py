"""Sample sheets: the TSV a regional centre sends with its VCFs.

Columns (header required, any order, case-insensitive): sample_id, subject_id, sex, population,
centre (or region), consent. Only sample_id is mandatory; a missing subject_id means the sample id
is the subject, missing sex/population become "unknown", a missing centre is the --centre option,
and a missing consent is "unknown" (no research use is assumed).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from genomenode.domain.samples import SampleRecord, Sex
from genomenode.errors import DuplicateSampleError, SampleSheetError, listing

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
}


def read_sample_sheet(path: Path, *, default_centre: str) -> list[SampleRecord]:
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
            "sample_id and may name subject_id, sex, population, centre, consent, separated by tabs"
        )
    records: list[SampleRecord] = []
    seen: dict[str, int] = {}
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
        records.append(
            SampleRecord(
                sample_id=sample_id,
                subject_id=values.get("subject_id") or sample_id,
                sex=sex,
                population=values.get("population") or "unknown",
                centre=values.get("centre") or default_centre,
                consent=values.get("consent") or "unknown",
                line=line_no,
            )
        )
    return records


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
