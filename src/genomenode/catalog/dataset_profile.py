"""What a dataset page shows: its terms, its people by region, population and sex, and its versions.

Counts of people are aggregates; the caller's small-count floor is applied by the reader
(access.table_suppression), never here. A version is a committed ingest run that added or
replaced files of the dataset: the dataset as of that run is what a citation names.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from genomenode.catalog.models import Centre, Dataset, IngestRun, Sample, VcfFile
from genomenode.errors import NotFoundError


@dataclass(frozen=True)
class DatasetVersion:
    run: int
    finished_at: datetime | None
    files: int
    samples: int
    centres: tuple[str, ...]
    command: str


@dataclass(frozen=True)
class DatasetProfile:
    name: str
    assembly: str
    description: str
    security_level: str
    data_use: tuple[str, ...]
    created_at: datetime
    people: Counter[tuple[str, str, str]]  # (region, population, sex) -> active samples
    files: int
    versions: tuple[DatasetVersion, ...]  # newest first


def dataset_profile(session: Session, name: str) -> DatasetProfile:
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    if ds is None:
        raise NotFoundError(f"no dataset {name!r}; the datasets page lists them")
    rows = session.execute(
        select(Centre.region, Centre.name, Sample.population, Sample.sex, func.count())
        .join(Centre, Centre.id == Sample.centre_id)
        .where(Sample.dataset_id == ds.id, Sample.status == "active")
        .group_by(Centre.region, Centre.name, Sample.population, Sample.sex)
    ).all()
    people: Counter[tuple[str, str, str]] = Counter()
    for region, centre, population, sex, n in rows:
        people[(region or centre, population or "unknown", sex or "unknown")] += int(n)
    runs = session.execute(
        select(
            IngestRun.id,
            IngestRun.finished_at,
            IngestRun.command,
            func.count(VcfFile.id),
            func.coalesce(func.sum(VcfFile.n_samples), 0),
        )
        .join(VcfFile, VcfFile.run_id == IngestRun.id)
        .where(VcfFile.dataset_id == ds.id, IngestRun.status == "committed")
        .group_by(IngestRun.id, IngestRun.finished_at, IngestRun.command)
        .order_by(IngestRun.id.desc())
    ).all()
    centres_of_run: dict[int, set[str]] = {}
    for run_id, centre in session.execute(
        select(VcfFile.run_id, Centre.name)
        .join(Centre, Centre.id == VcfFile.centre_id)
        .where(VcfFile.dataset_id == ds.id)
    ):
        centres_of_run.setdefault(int(run_id), set()).add(centre)
    n_files = session.scalar(
        select(func.count()).select_from(VcfFile).where(VcfFile.dataset_id == ds.id, VcfFile.status == "active")
    )
    return DatasetProfile(
        name=ds.name,
        assembly=ds.assembly,
        description=ds.description or "",
        security_level=ds.security_level,
        data_use=tuple(json.loads(ds.data_use or "[]")),
        created_at=ds.created_at,
        people=people,
        files=int(n_files or 0),
        versions=tuple(
            DatasetVersion(int(r), f, int(nf), int(ns), tuple(sorted(centres_of_run.get(int(r), ()))), c or "")
            for r, f, c, nf, ns in runs
        ),
    )
