"""Small typed queries over a catalog `Session`, used by the ingest pipeline and the query layer.

Functions here never commit: the caller's one transaction (an ingest's commit point) decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genomenode.catalog.models import (
    ASSEMBLIES,
    CallGroup,
    Centre,
    Dataset,
    IngestRun,
    Sample,
    StoreFile,
    Subject,
    VcfFile,
)
from genomenode.errors import AssemblyError, StoreError

T = TypeVar("T")
# Well under SQLite's and PostgreSQL's limits on bound parameters per statement.
_CHUNK = 5000
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    assembly: str
    n_samples: int  # active samples
    n_files: int  # active files
    centres: list[str]  # sorted names of the centres of the active samples
    created_at: datetime


@dataclass(frozen=True)
class CallGroupRow:
    group_id: int
    file_id: int
    dataset: str
    population: str
    sex: str
    centre: str
    n_samples: int
    weight: int = 1
    excludes_sample_id: int | None = None


def _chunks(values: Collection[T]) -> Iterator[list[T]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _get_or_create(session: Session, query: Select[T], create: Callable[[], T]) -> T:
    """Find a row or insert it; a concurrent insert of the same key loses gracefully.

    The insert runs in a savepoint so that, on PostgreSQL, a unique violation caused by another
    transaction committing the same key first leaves the caller's transaction usable.
    """
    found = session.scalars(query).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = create()
            session.add(row)
        return row
    except IntegrityError:
        found = session.scalars(query).first()
        if found is None:  # not a lost race but a bad row: let the caller see why
            raise
        return found


# -- datasets, centres, subjects --------------------------------------------------------------


def get_dataset(session: Session, name: str) -> Dataset | None:
    return session.scalars(select(Dataset).where(Dataset.name == name)).first()


def get_or_create_dataset(session: Session, *, name: str, assembly: str) -> Dataset:
    """The dataset `name`; one dataset holds a single assembly, so another one is refused."""
    if assembly not in ASSEMBLIES:
        raise AssemblyError(f"unknown assembly {assembly!r}; expected one of {', '.join(ASSEMBLIES)}")
    dataset = _get_or_create(
        session,
        select(Dataset).where(Dataset.name == name),
        lambda: Dataset(name=name, assembly=assembly, description=""),
    )
    if dataset.assembly != assembly:
        raise AssemblyError(
            f"dataset {name} holds {dataset.assembly} data, not {assembly}; use another dataset name "
            "or lift the files over"
        )
    return dataset


# The newest committed ingest run: readers cache what they read from the catalog until it changes.
LATEST_RUN = select(func.max(IngestRun.id)).where(IngestRun.status == "committed")


def latest_run_id(session: Session) -> int:
    return int(session.scalar(LATEST_RUN) or 0)


def list_datasets(session: Session) -> list[DatasetSummary]:
    """Every dataset with its active sample and file counts, by name."""
    samples = dict(
        session.execute(
            select(Sample.dataset_id, func.count()).where(Sample.status == "active").group_by(Sample.dataset_id)
        ).all()
    )
    files = dict(
        session.execute(
            select(VcfFile.dataset_id, func.count()).where(VcfFile.status == "active").group_by(VcfFile.dataset_id)
        ).all()
    )
    centres: dict[int, list[str]] = {}
    for dataset_id, centre in session.execute(
        select(Sample.dataset_id, Centre.name)
        .join(Centre, Centre.id == Sample.centre_id)
        .where(Sample.status == "active")
        .distinct()
        .order_by(Centre.name)
    ).all():
        centres.setdefault(dataset_id, []).append(centre)
    return [
        DatasetSummary(
            name=d.name,
            assembly=d.assembly,
            n_samples=samples.get(d.id, 0),
            n_files=files.get(d.id, 0),
            centres=centres.get(d.id, []),
            created_at=d.created_at,
        )
        for d in session.scalars(select(Dataset).order_by(Dataset.name))
    ]


def get_or_create_centre(session: Session, name: str) -> Centre:
    return _get_or_create(session, select(Centre).where(Centre.name == name), lambda: Centre(name=name, region=name))


def get_or_create_subject(session: Session, *, pseudonym: str, sex: str) -> Subject:
    """The subject with this pseudonym. Anything but a 64-hex HMAC is refused: raw ids never land here."""
    if not _PSEUDONYM.fullmatch(pseudonym):
        raise ValueError("a subject pseudonym must be a 64-character lower-case hex HMAC, never a raw identifier")
    return _get_or_create(
        session, select(Subject).where(Subject.pseudonym == pseudonym), lambda: Subject(pseudonym=pseudonym, sex=sex)
    )


def get_or_create_subjects(session: Session, subjects: Collection[tuple[str, str]]) -> dict[str, Subject]:
    """Many subjects at once, (pseudonym, sex) → Subject by pseudonym: one query per chunk, one flush."""
    wanted = dict(subjects)
    for pseudonym in wanted:
        if not _PSEUDONYM.fullmatch(pseudonym):
            raise ValueError("a subject pseudonym must be a 64-character lower-case hex HMAC, never a raw identifier")
    found: dict[str, Subject] = {}
    for chunk in _chunks(list(wanted)):
        found.update((s.pseudonym, s) for s in session.scalars(select(Subject).where(Subject.pseudonym.in_(chunk))))
    new = [Subject(pseudonym=p, sex=sex) for p, sex in wanted.items() if p not in found]
    session.add_all(new)
    session.flush()
    found.update((s.pseudonym, s) for s in new)
    return found


# -- files and samples ------------------------------------------------------------------------


def find_file_by_checksum(session: Session, *, dataset_id: int, sha256: str) -> VcfFile | None:
    """The file with this content in the dataset, active or replaced (the pair is unique)."""
    return session.scalars(select(VcfFile).where(VcfFile.dataset_id == dataset_id, VcfFile.sha256 == sha256)).first()


def active_samples(session: Session, *, dataset_id: int, sample_ids: Collection[str]) -> list[Sample]:
    """The dataset's active samples among `sample_ids` (VCF header names), by catalog id."""
    found: list[Sample] = []
    for chunk in _chunks(set(sample_ids)):
        found += session.scalars(
            select(Sample).where(
                Sample.dataset_id == dataset_id, Sample.status == "active", Sample.sample_id.in_(chunk)
            )
        )
    return sorted(found, key=lambda s: s.id)


def active_samples_of_file(session: Session, *, file_id: int) -> list[Sample]:
    return list(
        session.scalars(select(Sample).where(Sample.file_id == file_id, Sample.status == "active").order_by(Sample.id))
    )


def mark_files_replaced(session: Session, *, file_ids: Collection[int], run_id: int) -> None:
    """Supersede files (and their active samples) by run `run_id`, in the caller's transaction."""
    for chunk in _chunks(set(file_ids)):
        session.execute(
            update(VcfFile)
            .where(VcfFile.id.in_(chunk), VcfFile.status == "active")
            .values(status="replaced", replaced_run_id=run_id)
        )
        session.execute(
            update(Sample).where(Sample.file_id.in_(chunk), Sample.status == "active").values(status="replaced")
        )


def call_groups(session: Session, *, assembly: str, dataset_ids: Collection[int] | None = None) -> list[CallGroupRow]:
    """The call groups of active files in datasets of `assembly`, by group id."""
    query = (
        select(CallGroup, Dataset.name)
        .join(VcfFile, VcfFile.id == CallGroup.file_id)
        .join(Dataset, Dataset.id == CallGroup.dataset_id)
        .where(VcfFile.status == "active", Dataset.assembly == assembly)
        .order_by(CallGroup.id)
    )
    if dataset_ids is not None:
        query = query.where(CallGroup.dataset_id.in_(list(dataset_ids)))
    return [
        CallGroupRow(
            g.id, g.file_id, dataset, g.population, g.sex, g.centre, g.n_samples, g.weight, g.excludes_sample_id
        )
        for g, dataset in session.execute(query).all()
    ]


# -- the store's file list --------------------------------------------------------------------


def live_store_files(
    session: Session,
    *,
    table_name: str,
    assembly: str | None = None,
    chrom: str | None = None,
    dataset_ids: Collection[int] | None = None,
) -> list[StoreFile]:
    """The parts a reader should see now: committed and not superseded, by path."""
    query = select(StoreFile).where(StoreFile.table_name == table_name, StoreFile.removed_run_id.is_(None))
    if assembly is not None:
        query = query.where(StoreFile.assembly == assembly)
    if chrom is not None:
        query = query.where(StoreFile.chrom == chrom)
    if dataset_ids is not None:
        query = query.where(StoreFile.dataset_id.in_(list(dataset_ids)))
    return list(session.scalars(query.order_by(StoreFile.path)))


def all_store_paths(session: Session) -> set[str]:
    """Every path ever committed, live or removed: a file on disk not in here is an orphan."""
    return set(session.scalars(select(StoreFile.path)))


def removed_store_files(session: Session, *, before: datetime) -> list[StoreFile]:
    """Superseded parts whose superseding run finished before `before` (past a readers' grace period)."""
    removed_at = func.coalesce(IngestRun.finished_at, IngestRun.started_at)
    return list(
        session.scalars(
            select(StoreFile)
            .join(IngestRun, IngestRun.id == StoreFile.removed_run_id)
            .where(removed_at < before)
            .order_by(StoreFile.path)
        )
    )


def mark_store_files_removed(session: Session, *, ids: Collection[int], run_id: int) -> None:
    """Supersede live parts by run `run_id`, in the caller's (commit) transaction.

    Every part must still be live: if another run removed one since the caller planned its
    changes, the plan is stale and committing it would lose that run's work, so this refuses.
    """
    wanted = set(ids)
    changed = 0
    for chunk in _chunks(wanted):
        result = session.execute(
            update(StoreFile)
            .where(StoreFile.id.in_(chunk), StoreFile.removed_run_id.is_(None))
            .values(removed_run_id=run_id)
        )
        changed += cast("CursorResult[Any]", result).rowcount
    if changed != len(wanted):
        raise StoreError(
            f"{len(wanted) - changed} of {len(wanted)} store files to supersede are no longer live; "
            "another ingest changed the store meanwhile; run the ingest again"
        )
