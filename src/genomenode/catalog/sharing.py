"""Catalog queries behind access decisions: users, projects, grants, consents, subjects' facts.

Like repository.py these never commit; every function that changes policy also bumps the policy
version in the same transaction, so cached decisions keyed by the version go stale with it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from genomenode.catalog.models import (
    ArchivedFile,
    Centre,
    Consent,
    Dataset,
    Grant,
    PolicyState,
    Project,
    ProjectMember,
    Sample,
    Subject,
    User,
    utcnow,
)
from genomenode.errors import InputError, NotFoundError


@dataclass(frozen=True)
class SubjectRow:
    id: int
    pseudonym: str
    sex: str
    status: str
    regions: frozenset[str]
    datasets: frozenset[str]
    samples: tuple[tuple[int, str, str], ...]  # (sample id code, dataset, sample name), active only
    consent_codes: tuple[str, ...] | None  # None: no consent recorded
    consent_status: str | None


@dataclass(frozen=True)
class ProjectRow:
    id: int
    name: str
    purpose: dict[str, object]
    members: frozenset[tuple[str, str]]  # (issuer, subject)
    granted_datasets: frozenset[str]


POLICY_VERSION = select(PolicyState.version).where(PolicyState.id == 1)


def policy_version(session: Session | Connection) -> int:
    """The counter every grant, consent, erasure, ingest and policy change bumps (a Core
    connection is enough, and cheaper than a Session, for the per-request staleness checks)."""
    return int(session.execute(POLICY_VERSION).scalar() or 0)


def bump_policy_version(session: Session) -> None:
    session.execute(update(PolicyState).where(PolicyState.id == 1).values(version=PolicyState.version + 1))


# -- users ------------------------------------------------------------------------------------
def find_user(session: Session, *, issuer: str, subject: str) -> User | None:
    return session.scalar(select(User).where(User.issuer == issuer, User.subject == subject))


def upsert_user(
    session: Session,
    *,
    issuer: str,
    subject: str,
    roles: Collection[str],
    name: str = "",
    region: str | None = None,
    centre: str | None = None,
) -> User:
    user = find_user(session, issuer=issuer, subject=subject)
    if user is None:
        user = User(issuer=issuer, subject=subject, created_at=utcnow(), active=True)
        session.add(user)
    user.roles = ",".join(sorted(set(roles)))
    user.name = name
    user.region = region
    user.centre = centre
    user.active = True
    session.flush()
    bump_policy_version(session)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.issuer, User.subject)))


# -- projects and grants ----------------------------------------------------------------------
def create_project(session: Session, *, name: str, purpose: dict[str, object]) -> Project:
    if session.scalar(select(Project).where(Project.name == name)) is not None:
        raise InputError(f"project {name!r} exists already; choose another name")
    project = Project(name=name, purpose=json.dumps(purpose, sort_keys=True), created_at=utcnow())
    session.add(project)
    session.flush()
    bump_policy_version(session)
    return project


def get_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    return project


def add_member(session: Session, *, project: Project, user: User) -> None:
    exists = session.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id)
    )
    if exists is None:
        session.add(ProjectMember(project_id=project.id, user_id=user.id))
        session.flush()
        bump_policy_version(session)


def project_row(session: Session, name: str, *, now: datetime | None = None) -> ProjectRow:
    project = get_project(session, name)
    members = session.execute(
        select(User.issuer, User.subject)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id, User.active.is_(True))
    ).all()
    return ProjectRow(
        id=project.id,
        name=project.name,
        purpose=json.loads(project.purpose),
        members=frozenset((i, s) for i, s in members),
        granted_datasets=frozenset(live_grants(session, project_id=project.id, now=now)),
    )


def projects_of(session: Session, *, issuer: str, subject: str) -> list[str]:
    return list(
        session.scalars(
            select(Project.name)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .join(User, User.id == ProjectMember.user_id)
            .where(User.issuer == issuer, User.subject == subject, User.active.is_(True))
            .order_by(Project.name)
        )
    )


def live_grants(session: Session, *, project_id: int, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    rows = session.execute(
        select(Dataset.name, Grant.expires_at)
        .join(Grant, Grant.dataset_id == Dataset.id)
        .where(Grant.project_id == project_id, Grant.revoked_at.is_(None))
    ).all()
    return sorted({name for name, expires in rows if expires is None or expires > now})


def add_grant(
    session: Session, *, project: Project, dataset: Dataset, by: str, expires_at: datetime | None = None
) -> Grant:
    grant = Grant(
        project_id=project.id, dataset_id=dataset.id, granted_by=by, granted_at=utcnow(), expires_at=expires_at
    )
    session.add(grant)
    session.flush()
    bump_policy_version(session)
    return grant


def revoke_grants(session: Session, *, project: Project, dataset: Dataset, by: str) -> int:
    result = session.execute(
        update(Grant)
        .where(Grant.project_id == project.id, Grant.dataset_id == dataset.id, Grant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=by)
    )
    bump_policy_version(session)
    return int(getattr(result, "rowcount", 0) or 0)


# -- subjects and consent ---------------------------------------------------------------------
def record_consent(
    session: Session,
    *,
    subject: Subject,
    codes: Collection[str],
    status: str,
    by: str,
    source: str = "",
    signed_on: datetime | None = None,
    bump: bool = True,
) -> Consent:
    consent = Consent(
        subject_id=subject.id,
        codes=json.dumps(list(codes)),
        status=status,
        signed_on=signed_on,
        source=source,
        recorded_at=utcnow(),
        recorded_by=by,
    )
    session.add(consent)
    session.flush()
    if bump:
        bump_policy_version(session)
    return consent


def current_consents(session: Session, subject_ids: Collection[int]) -> dict[int, Consent]:
    """The consent in force per subject: its newest recorded row."""
    out: dict[int, Consent] = {}
    ids = list(subject_ids)
    for start in range(0, len(ids), 5000):
        for c in session.scalars(
            select(Consent).where(Consent.subject_id.in_(ids[start : start + 5000])).order_by(Consent.id)
        ):
            out[c.subject_id] = c
    return out


def withdrawn_subject_ids(session: Session) -> set[int]:
    """Subjects whose consent in force is a withdrawal (or who were erased)."""
    latest: dict[int, str] = {}
    for subject_id, status in session.execute(select(Consent.subject_id, Consent.status).order_by(Consent.id)):
        latest[subject_id] = status
    erased = set(session.scalars(select(Subject.id).where(Subject.status == "erased")))
    return {s for s, status in latest.items() if status == "withdrawn"} | erased


def get_subject(session: Session, pseudonym: str) -> Subject | None:
    return session.scalar(select(Subject).where(Subject.pseudonym == pseudonym))


def subject_rows(session: Session, subject_ids: Collection[int] | None = None) -> list[SubjectRow]:
    """Facts about subjects with active samples (or the ones named), for policy and listings."""
    query = (
        select(Subject, Sample.id, Dataset.name, Sample.sample_id, Centre.region)
        .join(Sample, Sample.subject_id == Subject.id)
        .join(Dataset, Dataset.id == Sample.dataset_id)
        .join(Centre, Centre.id == Sample.centre_id)
        .where(Sample.status == "active")
        .order_by(Subject.id, Sample.id)
    )
    if subject_ids is not None:
        query = query.where(Subject.id.in_(list(subject_ids)))
    grouped: dict[int, tuple[Subject, list[tuple[int, str, str, str]]]] = {}
    for subject, sample_code, dataset, sample_name, region in session.execute(query).all():
        grouped.setdefault(subject.id, (subject, []))[1].append((sample_code, dataset, sample_name, region))
    consents = current_consents(session, grouped)
    rows = []
    for sid, (subject, samples) in grouped.items():
        consent = consents.get(sid)
        rows.append(
            SubjectRow(
                id=sid,
                pseudonym=subject.pseudonym,
                sex=subject.sex,
                status=subject.status,
                regions=frozenset(r for *_, r in samples),
                datasets=frozenset(d for _, d, _, _ in samples),
                samples=tuple((code, d, name) for code, d, name, _ in samples),
                consent_codes=tuple(json.loads(consent.codes)) if consent else None,
                consent_status=consent.status if consent else None,
            )
        )
    return rows


def set_dataset_policy(session: Session, *, name: str, level: str | None, data_use: Collection[str] | None) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFoundError(f"no dataset {name!r}")
    if level is not None:
        dataset.security_level = level
    if data_use is not None:
        dataset.data_use = json.dumps(list(data_use))
    session.flush()
    bump_policy_version(session)
    return dataset


def describe_dataset(session: Session, *, name: str, description: str) -> None:
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFoundError(f"no dataset {name!r}")
    dataset.description = description


def set_centre_region(session: Session, *, centre: str, region: str) -> None:
    found = session.scalar(select(Centre).where(Centre.name == centre))
    if found is None:
        raise NotFoundError(f"no centre {centre!r}")
    found.region = region
    session.flush()
    bump_policy_version(session)


def erased_among(session: Session, pseudonyms: Collection[str]) -> set[str]:
    """Which of these pseudonyms belong to erased subjects."""
    found: set[str] = set()
    items = list(pseudonyms)
    for start in range(0, len(items), 5000):
        found |= set(
            session.scalars(
                select(Subject.pseudonym).where(
                    Subject.pseudonym.in_(items[start : start + 5000]), Subject.status == "erased"
                )
            )
        )
    return found


def archived_sizes(session: Session) -> dict[str, int]:
    """Each archived file's path (relative to the archive) and the encrypted size the catalog committed."""
    return {row.path: row.encrypted_bytes for row in session.scalars(select(ArchivedFile))}
