"""Access requests in the catalog: pure session functions (they never commit), like sharing.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from genomenode.catalog.models import ACCESS_REQUEST_STATUSES, AccessRequest, Dataset, Project, utcnow
from genomenode.errors import NotFoundError

STATUSES = ACCESS_REQUEST_STATUSES


@dataclass(frozen=True)
class AccessRequestRow:
    id: int
    project: str
    dataset: str
    requester: str
    justification: str
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str

    @property
    def requester_name(self) -> str:
        """The subject part of the requester (issuer|subject), as pages show people."""
        return self.requester.rsplit("|", 1)[-1]


def _row(r: AccessRequest, project: str, dataset: str) -> AccessRequestRow:
    return AccessRequestRow(
        id=r.id,
        project=project,
        dataset=dataset,
        requester=r.requester,
        justification=r.justification,
        status=r.status,
        created_at=r.created_at,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        decision_note=r.decision_note or "",
    )


def add_request(
    session: Session, *, project: Project, dataset: Dataset, requester: str, justification: str
) -> AccessRequestRow:
    request = AccessRequest(
        project_id=project.id,
        dataset_id=dataset.id,
        requester=requester,
        justification=justification,
        status="pending",
        created_at=utcnow(),
        decision_note="",
    )
    session.add(request)
    session.flush()
    return _row(request, project.name, dataset.name)


def list_requests(
    session: Session, *, projects: set[str] | None = None, status: str | None = None
) -> list[AccessRequestRow]:
    """Requests newest first; `projects` limits them to those projects' (a researcher's view)."""
    query = (
        select(AccessRequest, Project.name, Dataset.name)
        .join(Project, Project.id == AccessRequest.project_id)
        .join(Dataset, Dataset.id == AccessRequest.dataset_id)
        .order_by(AccessRequest.id.desc())
    )
    if projects is not None:
        query = query.where(Project.name.in_(sorted(projects)))
    if status is not None:
        query = query.where(AccessRequest.status == status)
    return [_row(r, p, d) for r, p, d in session.execute(query).all()]


MAX_ID = 2**31 - 1  # the column is a 32-bit INTEGER on PostgreSQL; a larger id names nothing


def get_request(session: Session, request_id: int) -> tuple[AccessRequest, AccessRequestRow]:
    if not 1 <= request_id <= MAX_ID:
        raise NotFoundError(f"no access request {request_id}")
    found = session.execute(
        select(AccessRequest, Project.name, Dataset.name)
        .join(Project, Project.id == AccessRequest.project_id)
        .join(Dataset, Dataset.id == AccessRequest.dataset_id)
        .where(AccessRequest.id == request_id)
    ).first()
    if found is None:
        raise NotFoundError(f"no access request {request_id}")
    return found[0], _row(found[0], found[1], found[2])


def pending_for(session: Session, *, project_id: int, dataset_id: int) -> AccessRequest | None:
    return session.scalar(
        select(AccessRequest).where(
            AccessRequest.project_id == project_id,
            AccessRequest.dataset_id == dataset_id,
            AccessRequest.status == "pending",
        )
    )


def set_status(request: AccessRequest, *, status: str, by: str, note: str = "") -> None:
    request.status = status
    request.decided_by = by
    request.decided_at = utcnow()
    request.decision_note = note
