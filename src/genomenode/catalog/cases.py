"""Rare-disease cases in the catalog: the family's samples, HPO terms, panel and latest analysis.

Like repository.py these never commit. A case names its members by their sample names in one
dataset and keeps each one's catalog sample id (the store's code) beside it, so an analysis reads
exactly the samples the case was created with, and erasure finds the cases a person is in.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genomenode.catalog.models import Case, Centre, Dataset, Sample, Subject, utcnow
from genomenode.errors import InputError, NotFoundError

MEMBER_KEYS = ("id", "sample", "father", "mother", "sex", "affection")


@dataclass(frozen=True)
class MemberSample:
    """A member's active sample in the case's dataset, with what access and erasure need."""

    name: str  # the sample's name in the dataset (its VCF column)
    sample: int  # catalog id, the store's code
    subject_id: int
    pseudonym: str
    region: str  # the sample's centre's region


@dataclass(frozen=True)
class CaseRow:
    """A case as its readers need it, decoded from the row's JSON columns."""

    name: str
    dataset: str
    assembly: str
    region: str
    members: tuple[dict[str, Any], ...]
    proband: str
    hpo: tuple[str, ...]
    panel: dict[str, Any] | None
    panel_level: str
    created_by: str
    created_at: datetime
    result: dict[str, Any] | None
    settings: dict[str, Any] | None
    analysed_by: str | None
    analysed_at: datetime | None

    @property
    def samples(self) -> dict[str, int | None]:
        """Member id → catalog sample id (None: the person was erased)."""
        return {m["id"]: m["sample"] for m in self.members}


def member_samples(session: Session, *, dataset_id: int, names: Collection[str]) -> dict[str, MemberSample]:
    """The dataset's active samples among `names`, with their subjects and regions (unknown names left out)."""
    rows = session.execute(
        select(Sample.sample_id, Sample.id, Subject.id, Subject.pseudonym, Centre.region)
        .join(Subject, Subject.id == Sample.subject_id)
        .join(Centre, Centre.id == Sample.centre_id)
        .where(Sample.dataset_id == dataset_id, Sample.status == "active", Sample.sample_id.in_(sorted(set(names))))
    ).all()
    return {r[0]: MemberSample(r[0], int(r[1]), int(r[2]), r[3], r[4] or "") for r in rows}


def new_case_name() -> str:
    """A generated case name: short, random, and not derived from anyone's identity."""
    return f"case-{secrets.token_hex(4)}"


def add_case(
    session: Session,
    *,
    name: str,
    dataset_id: int,
    region: str,
    members: Sequence[Mapping[str, Any]],
    proband: str,
    hpo: Sequence[str],
    panel: Mapping[str, Any] | None,
    panel_level: str,
    created_by: str,
) -> Case:
    if session.scalar(select(Case.id).where(Case.name == name)) is not None:
        raise InputError(f"a case named {name!r} exists already; choose another --name")
    bad = [m for m in members if set(m) != set(MEMBER_KEYS)]
    if bad:
        raise ValueError(f"case members need exactly the keys {', '.join(MEMBER_KEYS)}")
    case = Case(
        name=name,
        dataset_id=dataset_id,
        region=region,
        members=json.dumps([dict(m) for m in members]),
        proband=proband,
        hpo=json.dumps(list(hpo)),
        panel=json.dumps(dict(panel)) if panel is not None else None,
        panel_level=panel_level,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(case)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name
        raise InputError(f"a case named {name!r} exists already; choose another --name") from exc
    return case


def _row(case: Case, dataset: Dataset) -> CaseRow:
    return CaseRow(
        name=case.name,
        dataset=dataset.name,
        assembly=dataset.assembly,
        region=case.region,
        members=tuple(json.loads(case.members)),
        proband=case.proband,
        hpo=tuple(json.loads(case.hpo)),
        panel=json.loads(case.panel) if case.panel else None,
        panel_level=case.panel_level,
        created_by=case.created_by,
        created_at=case.created_at,
        result=json.loads(case.result) if case.result else None,
        settings=json.loads(case.settings) if case.settings else None,
        analysed_by=case.analysed_by,
        analysed_at=case.analysed_at,
    )


def get_case(session: Session, name: str) -> CaseRow:
    found = session.execute(
        select(Case, Dataset).join(Dataset, Dataset.id == Case.dataset_id).where(Case.name == name)
    ).first()
    if found is None:
        raise NotFoundError(f"no case {name!r}; `genomenode case list` shows the cases you may see")
    return _row(found[0], found[1])


def list_cases(session: Session) -> list[CaseRow]:
    rows = session.execute(select(Case, Dataset).join(Dataset, Dataset.id == Case.dataset_id).order_by(Case.name))
    return [_row(c, d) for c, d in rows]


def store_result(
    session: Session,
    name: str,
    *,
    result: Mapping[str, Any],
    settings: Mapping[str, Any],
    analysed_by: str,
    analysed_at: datetime | None = None,
) -> None:
    case = session.scalar(select(Case).where(Case.name == name))
    if case is None:
        raise NotFoundError(f"no case {name!r}")
    case.result = json.dumps(dict(result))
    case.settings = json.dumps(dict(settings), sort_keys=True)
    case.analysed_by = analysed_by
    case.analysed_at = analysed_at or utcnow()
    session.flush()


def forget_samples(session: Session, sample_ids: Collection[int]) -> list[str]:
    """Erasure: unlink these samples from every case holding them and drop those cases' stored
    analyses (which show the person's genotypes). The member stays in the pedigree, without a
    sample, so the family's structure is still true. Returns the names of the cases changed."""
    gone = set(sample_ids)
    if not gone:
        return []
    changed = []
    for case in session.scalars(select(Case)):  # cases are few; JSON is not portably indexable
        members = json.loads(case.members)
        if not any(m["sample"] in gone for m in members):
            continue
        for m in members:
            if m["sample"] in gone:
                m["sample"] = None
        case.members = json.dumps(members)
        case.result = case.settings = case.analysed_by = None
        case.analysed_at = None
        changed.append(case.name)
    session.flush()
    return changed
