"""Beacon records of people and what was done with their samples, built from catalog rows.

The default model's required fields are filled from what the node knows; what it does not record
at ingest is said plainly rather than guessed: a submitted germline VCF's sample is a reference
(non-tumour) specimen from the person (EFO:0009654, OBI:0001479), its run date is the day the file
was submitted, and its analysis is "variant calling by the submitting centre" with the file's kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from genomenode.catalog import models as m
from genomenode.catalog.phenotypes import SubjectAnnotation
from genomenode.domain.samples import Sex
from genomenode.store.hpo import Hpo


@dataclass(frozen=True)
class SampleRow:
    sample: int  # the catalog's sample id: the store's code, never the centre's sample name
    subject_id: int
    dataset: str
    centre: str
    file_id: int
    file_kind: str  # vcf or gvcf
    submitted: datetime


def sample_rows(session: Session) -> list[SampleRow]:
    """Every active sample, with the file it came in."""
    rows = session.execute(
        select(m.Sample.id, m.Sample.subject_id, m.Dataset.name, m.Centre.name, m.VcfFile.id, m.VcfFile.kind,
               m.VcfFile.created_at)
        .join(m.Dataset, m.Dataset.id == m.Sample.dataset_id)
        .join(m.Centre, m.Centre.id == m.Sample.centre_id)
        .join(m.VcfFile, m.VcfFile.id == m.Sample.file_id)
        .where(m.Sample.status == "active")
        .order_by(m.Sample.id)
    ).all()  # fmt: skip
    return [SampleRow(*r) for r in rows]


def record(kind: str, item: Any, person: SubjectAnnotation, hpo: Hpo) -> dict[str, Any]:
    if kind == "individuals":
        return individual(person, hpo)
    builders = {"biosamples": biosample, "runs": run, "analyses": analysis}
    built: dict[str, Any] = builders[kind](item, person)
    return built


def individual(a: SubjectAnnotation, hpo: Hpo) -> dict[str, Any]:
    """A Beacon individual: the node pseudonym, sex as NCIT, phenotypes (HPO) and diseases."""
    sex = Sex(a.sex) if a.sex in {s.value for s in Sex} else Sex.UNKNOWN
    out: dict[str, Any] = {"id": a.pseudonym, "sex": {"id": sex.ncit, "label": sex.value}}
    features: list[dict[str, Any]] = [
        {"featureType": {"id": t, "label": hpo.name(t) or t}} for t in sorted(a.phenotypes)
    ]
    features += [{"featureType": {"id": t, "label": hpo.name(t) or t}, "excluded": True}
                 for t in sorted(a.excluded_phenotypes)]  # fmt: skip
    if features:
        out["phenotypicFeatures"] = features
    if a.diseases:
        out["diseases"] = [{"diseaseCode": {"id": d, "label": hpo.disease_name(d) or d}} for d in sorted(a.diseases)]
    info: dict[str, Any] = {"datasets": sorted(a.datasets), "populations": sorted(a.populations)}
    if a.age_years is not None:
        info["ageYearsAtCollection"] = a.age_years
    out["info"] = info
    return out


def record_id(kind: str, row: SampleRow) -> str:
    """The id a biosample, run or analysis record of this sample carries."""
    ids = {"biosamples": biosample_id(row), "runs": f"run-{row.file_id}-{row.sample}",
           "analyses": f"analysis-{row.file_id}-{row.sample}"}  # fmt: skip
    return ids[kind]


def biosample_id(row: SampleRow) -> str:
    return f"biosample-{row.sample}"


def biosample(row: SampleRow, person: SubjectAnnotation) -> dict[str, Any]:
    return {
        "id": biosample_id(row),
        "individualId": person.pseudonym,
        "biosampleStatus": {"id": "EFO:0009654", "label": "reference sample"},
        "sampleOriginType": {"id": "OBI:0001479", "label": "specimen from organism"},
        "info": {"dataset": row.dataset, "centre": row.centre},
    }


def run(row: SampleRow, person: SubjectAnnotation) -> dict[str, Any]:
    return {
        "id": record_id("runs", row),
        "biosampleId": biosample_id(row),
        "individualId": person.pseudonym,
        "runDate": row.submitted.date().isoformat(),
        "info": {"dataset": row.dataset, "centre": row.centre, "dateIs": "the day the centre submitted the file"},
    }


def analysis(row: SampleRow, person: SubjectAnnotation) -> dict[str, Any]:
    return {
        "id": record_id("analyses", row),
        "runId": record_id("runs", row),
        "biosampleId": biosample_id(row),
        "individualId": person.pseudonym,
        "analysisDate": row.submitted.date().isoformat(),
        "pipelineName": f"variant calling by {row.centre} ({row.file_kind.upper()} submitted)",
        "info": {"dataset": row.dataset},
    }


def cohort(centre: str, size: int, *, floor: int | None) -> dict[str, Any]:
    """A centre's cohort; `floor`: round its size up to a multiple of it (callers below CONTROLLED)."""
    shown = size if floor is None or floor <= 1 or size % floor == 0 else size + floor - size % floor
    out: dict[str, Any] = {
        "id": centre,
        "name": f"People submitted by {centre}",
        "cohortType": "study-defined",
        "cohortSize": shown,
        "cohortDataTypes": [{"id": "OGMS:0000015", "label": "clinical history"},
                            {"id": "OBI:0000070", "label": "genotyping assay"}],
    }  # fmt: skip
    if shown != size:
        out["info"] = {"countPrecision": "rounded"}
    return out
