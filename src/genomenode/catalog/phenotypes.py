"""Catalog queries for what is known of people's health: HPO features, diagnoses and age.

The sample sheet is the source (ingest records what a sheet gives, replacing what was held), the
Beacon filter engine the reader (`subject_annotations`), erasure the end (`erase_annotations`).
Like repository.py these never commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from genomenode.catalog.models import (
    Centre,
    Dataset,
    PhenotypicFeature,
    Sample,
    Subject,
    SubjectDisease,
)
from genomenode.catalog.sharing import current_consents
from genomenode.domain.samples import SampleRecord

_CHUNK = 5000  # ids per IN (...) list, well below every backend's parameter limit


@dataclass(frozen=True)
class SubjectAnnotation:
    """One person as Beacon filters see them (subjects with an active sample, erased ones left out)."""

    subject_id: int
    pseudonym: str
    sex: str  # female | male | unknown
    age_years: float | None
    populations: frozenset[str]
    datasets: frozenset[str]
    centres: frozenset[str]
    regions: frozenset[str]
    status: str
    phenotypes: frozenset[str]  # HPO terms present
    excluded_phenotypes: frozenset[str]  # HPO terms looked for and absent
    diseases: frozenset[str]
    consent_codes: tuple[str, ...] | None  # the consent in force; None: none recorded
    consent_status: str | None


def replace_features(
    session: Session, subject_id: int, *, present: Iterable[str], excluded: Iterable[str] = ()
) -> None:
    """The subject's features become exactly these (a term in both lists is an error of the caller)."""
    rows = [(t, False) for t in dict.fromkeys(present)] + [(t, True) for t in dict.fromkeys(excluded)]
    session.execute(delete(PhenotypicFeature).where(PhenotypicFeature.subject_id == subject_id))
    if rows:
        session.execute(
            insert(PhenotypicFeature),
            [{"subject_id": subject_id, "term_id": t, "excluded": ex} for t, ex in rows],
        )


def replace_diseases(session: Session, subject_id: int, terms: Iterable[str]) -> None:
    session.execute(delete(SubjectDisease).where(SubjectDisease.subject_id == subject_id))
    rows = [{"subject_id": subject_id, "term_id": t} for t in dict.fromkeys(terms)]
    if rows:
        session.execute(insert(SubjectDisease), rows)


def set_age(session: Session, subject_id: int, age_years: float | None) -> None:
    session.execute(update(Subject).where(Subject.id == subject_id).values(age_years=age_years))


def record_from_sheet(session: Session, records: Mapping[int, SampleRecord]) -> None:
    """What sample sheet rows say of their people (subject id → row), column by column: phenotypes
    given replace the subject's features, diseases given their diagnoses, an age given their age.
    An empty cell leaves what the catalog holds. Done in bulk: one DELETE and one INSERT per table."""
    features = {sid: r for sid, r in records.items() if r.phenotypes or r.excluded_phenotypes}
    diseases = {sid: r for sid, r in records.items() if r.diseases}
    for chunk in _chunks(list(features)):
        session.execute(delete(PhenotypicFeature).where(PhenotypicFeature.subject_id.in_(chunk)))
    for chunk in _chunks(list(diseases)):
        session.execute(delete(SubjectDisease).where(SubjectDisease.subject_id.in_(chunk)))
    feature_rows = [
        {"subject_id": sid, "term_id": t, "excluded": ex}
        for sid, r in features.items()
        for terms, ex in ((r.phenotypes, False), (r.excluded_phenotypes, True))
        for t in dict.fromkeys(terms)
    ]
    if feature_rows:
        session.execute(insert(PhenotypicFeature), feature_rows)
    disease_rows = [{"subject_id": sid, "term_id": t} for sid, r in diseases.items() for t in dict.fromkeys(r.diseases)]
    if disease_rows:
        session.execute(insert(SubjectDisease), disease_rows)
    for sid, r in records.items():
        if r.age_years is not None:
            set_age(session, sid, r.age_years)


def erase_annotations(session: Session, subject_id: int) -> None:
    """Everything known of the person's health goes: features, diagnoses, age (erasure)."""
    session.execute(delete(PhenotypicFeature).where(PhenotypicFeature.subject_id == subject_id))
    session.execute(delete(SubjectDisease).where(SubjectDisease.subject_id == subject_id))
    set_age(session, subject_id, None)


def subject_annotations(session: Session, subject_ids: Collection[int] | None = None) -> list[SubjectAnnotation]:
    """Every person with an active sample (or the ones named), erased people left out, by subject id."""
    query = (
        select(Subject, Sample.population, Dataset.name, Centre.name, Centre.region)
        .join(Sample, Sample.subject_id == Subject.id)
        .join(Dataset, Dataset.id == Sample.dataset_id)
        .join(Centre, Centre.id == Sample.centre_id)
        .where(Sample.status == "active", Subject.status != "erased")
        .order_by(Subject.id)
    )
    if subject_ids is not None:
        query = query.where(Subject.id.in_(list(subject_ids)))
    people: dict[int, Subject] = {}
    facts: dict[int, tuple[set[str], set[str], set[str], set[str]]] = {}
    for subject, population, dataset, centre, region in session.execute(query).all():
        people[subject.id] = subject
        pops, datasets, centres, regions = facts.setdefault(subject.id, (set(), set(), set(), set()))
        pops.add(population)
        datasets.add(dataset)
        centres.add(centre)
        regions.add(region)
    present: dict[int, set[str]] = {}
    excluded: dict[int, set[str]] = {}
    diagnoses: dict[int, set[str]] = {}
    for chunk in _chunks(list(people)):
        for sid, term, ex in session.execute(
            select(PhenotypicFeature.subject_id, PhenotypicFeature.term_id, PhenotypicFeature.excluded).where(
                PhenotypicFeature.subject_id.in_(chunk)
            )
        ):
            (excluded if ex else present).setdefault(sid, set()).add(term)
        for sid, term in session.execute(
            select(SubjectDisease.subject_id, SubjectDisease.term_id).where(SubjectDisease.subject_id.in_(chunk))
        ):
            diagnoses.setdefault(sid, set()).add(term)
    consents = current_consents(session, people)
    out = []
    for sid, subject in people.items():
        pops, datasets, centres, regions = facts[sid]
        consent = consents.get(sid)
        out.append(
            SubjectAnnotation(
                subject_id=sid,
                pseudonym=subject.pseudonym,
                sex=subject.sex,
                age_years=subject.age_years,
                populations=frozenset(pops),
                datasets=frozenset(datasets),
                centres=frozenset(centres),
                regions=frozenset(regions),
                status=subject.status,
                phenotypes=frozenset(present.get(sid, ())),
                excluded_phenotypes=frozenset(excluded.get(sid, ())),
                diseases=frozenset(diagnoses.get(sid, ())),
                consent_codes=tuple(json.loads(consent.codes)) if consent else None,
                consent_status=consent.status if consent else None,
            )
        )
    return out


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
