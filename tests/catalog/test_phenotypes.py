"""Phenotypes, diagnoses and age in the catalog: recorded from sample sheets, read as annotations
for Beacon filters, and gone with an erasure (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genomenode.catalog import models as m
from genomenode.catalog import phenotypes, sharing
from genomenode.catalog import repository as repo
from genomenode.catalog.database import session_factory
from genomenode.domain.samples import SampleRecord, Sex


def _person(
    session: Session, name: str, *, dataset: str = "rare", centre: str = "lund", population: str = "NFE"
) -> m.Subject:
    """A subject with one active sample, as an ingest leaves them."""
    run_id = int(session.scalar(select(m.IngestRun.id).order_by(m.IngestRun.id.desc())) or 0) + 1
    session.add(m.IngestRun(id=run_id, started_at=m.utcnow(), status="committed"))
    ds = repo.get_or_create_dataset(session, name=dataset, assembly="GRCh38")
    where = repo.get_or_create_centre(session, centre)
    session.flush()
    file_id = run_id
    session.add(
        m.VcfFile(
            id=file_id,
            dataset_id=ds.id,
            centre_id=where.id,
            run_id=run_id,
            name=f"{name}.vcf.gz",
            sha256=hashlib.sha256(name.encode()).hexdigest(),
            size_bytes=1,
            kind="vcf",
        )
    )
    subject = repo.get_or_create_subject(session, pseudonym=hashlib.sha256(name.encode()).hexdigest(), sex="female")
    session.flush()
    session.add(
        m.Sample(
            id=run_id,
            dataset_id=ds.id,
            sample_id=name,
            subject_id=subject.id,
            centre_id=where.id,
            file_id=file_id,
            sex="female",
            population=population,
        )
    )
    session.flush()
    return subject


def _row(name: str, **clinical: object) -> SampleRecord:
    return SampleRecord(name, name, Sex.FEMALE, "NFE", "lund", "HMB", **clinical)  # type: ignore[arg-type]


def test_record_from_sheet__stores_features_diagnoses_and_age(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as s, s.begin():
        ann, bo = _person(s, "ann"), _person(s, "bo", dataset="cardio", centre="umea", population="FIN")
        sharing.record_consent(s, subject=ann, codes=["HMB"], status="given", by="test")
        phenotypes.record_from_sheet(
            s,
            {
                ann.id: _row(
                    "ann",
                    phenotypes=("HP:0001250", "HP:0001249"),
                    excluded_phenotypes=("HP:0001638",),
                    diseases=("OMIM:607208",),
                    age_years=42.5,
                ),
                bo.id: _row("bo"),
            },
        )
    with factory() as s:
        by_name = {a.subject_id: a for a in phenotypes.subject_annotations(s)}
    a, b = by_name[ann.id], by_name[bo.id]
    assert (a.phenotypes, a.excluded_phenotypes) == ({"HP:0001250", "HP:0001249"}, {"HP:0001638"})
    assert (a.diseases, a.age_years, a.sex, a.status) == ({"OMIM:607208"}, 42.5, "female", "active")
    assert (a.datasets, a.centres, a.regions, a.populations) == ({"rare"}, {"lund"}, {"lund"}, {"NFE"})
    assert (a.consent_codes, a.consent_status, a.pseudonym) == (("HMB",), "given", ann.pseudonym)
    assert (b.phenotypes, b.excluded_phenotypes, b.diseases, b.age_years) == (set(), set(), set(), None)
    assert (b.datasets, b.populations, b.consent_codes) == ({"cardio"}, {"FIN"}, None)


def test_record_from_sheet__a_later_sheet_replaces_column_by_column(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as s, s.begin():
        ann = _person(s, "ann")
        first = _row("ann", phenotypes=("HP:0001250",), diseases=("OMIM:607208",), age_years=40.0)
        phenotypes.record_from_sheet(s, {ann.id: first})
    with factory() as s, s.begin():
        # a second sheet gives new features only: diagnoses and age stay as recorded
        phenotypes.record_from_sheet(s, {ann.id: _row("ann", phenotypes=("HP:0001249",))})
    with factory() as s:
        [a] = phenotypes.subject_annotations(s)
    assert (a.phenotypes, a.diseases, a.age_years) == ({"HP:0001249"}, {"OMIM:607208"}, 40.0)


def test_replace_features__the_features_become_exactly_these(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as s, s.begin():
        ann = _person(s, "ann")
        phenotypes.replace_features(s, ann.id, present=["HP:0001250"], excluded=["HP:0001638"])
        phenotypes.replace_features(s, ann.id, present=["HP:0000365", "HP:0000365"])
        phenotypes.replace_diseases(s, ann.id, ["ORPHA:558"])
        phenotypes.set_age(s, ann.id, 3.25)
    with factory() as s:
        [a] = phenotypes.subject_annotations(s, [ann.id])
    assert (a.phenotypes, a.excluded_phenotypes) == ({"HP:0000365"}, set())
    assert (a.diseases, a.age_years) == ({"ORPHA:558"}, 3.25)


def test_a_term_is_recorded_once_per_subject(engine: Engine) -> None:
    with Session(engine) as s:
        ann = _person(s, "ann")
        s.add_all([m.PhenotypicFeature(subject_id=ann.id, term_id="HP:0001250") for _ in range(2)])
        with pytest.raises(IntegrityError):
            s.flush()


def test_erase_annotations__nothing_of_their_health_is_left(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory() as s, s.begin():
        ann, bo = _person(s, "ann"), _person(s, "bo")
        rows = {
            sid: _row(n, phenotypes=("HP:0001250",), diseases=("OMIM:607208",), age_years=9.0)
            for sid, n in ((ann.id, "ann"), (bo.id, "bo"))
        }
        phenotypes.record_from_sheet(s, rows)
    with factory() as s, s.begin():
        phenotypes.erase_annotations(s, ann.id)
        s.execute(update(m.Subject).where(m.Subject.id == ann.id).values(status="erased"))
    with factory() as s:
        assert s.scalars(select(m.PhenotypicFeature.subject_id)).all() == [bo.id]
        assert s.scalars(select(m.SubjectDisease.subject_id)).all() == [bo.id]
        assert s.get_one(m.Subject, ann.id).age_years is None
        # erased people are left out of the annotations Beacon filters read
        assert [a.subject_id for a in phenotypes.subject_annotations(s)] == [bo.id]
