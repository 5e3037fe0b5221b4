"""Access requests over HTTP: researchers ask, stewards decide (access.access_requests)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from genomenode.access import access_requests, policy
from genomenode.api.security import AuthenticatedCaller, Gate, requires
from genomenode.catalog.access_requests import MAX_ID

router = APIRouter(tags=["access requests"])
RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="The access request's number")]


class AccessRequestIn(BaseModel):
    project: str = Field(description="A project you are a member of")
    dataset: str
    justification: str = Field(description="Why the project needs the dataset (1-2,000 characters)")


class DecisionIn(BaseModel):
    decision: Literal["grant", "refuse"]
    note: str = ""


class NoteIn(BaseModel):
    note: str = ""


class AccessRequestOut(BaseModel):
    id: int
    project: str
    dataset: str
    requester: str
    justification: str
    status: Literal["pending", "granted", "refused", "withdrawn", "revoked"]
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str


@router.post("/access-requests", response_model=AccessRequestOut, status_code=201)
async def submit_request(body: AccessRequestIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Ask that your project may use a controlled dataset; a steward decides."""
    return await run_in_threadpool(
        lambda: access_requests.submit(
            gate, caller, project=body.project, dataset=body.dataset, justification=body.justification
        )
    )


@router.get("/access-requests", response_model=list[AccessRequestOut])
async def list_requests(
    caller: AuthenticatedCaller,
    gate: Gate,
    status: Annotated[
        Literal["pending", "granted", "refused", "withdrawn", "revoked"] | None, Query(description="Only these")
    ] = None,
) -> Any:
    """A steward's: every request; a researcher's: their projects' requests."""
    return await run_in_threadpool(lambda: access_requests.list_requests(gate, caller, status=status))


@router.post(
    "/access-requests/{request_id}/decision",
    response_model=AccessRequestOut,
    dependencies=[requires(policy.Action.MANAGE_GRANTS)],
)
async def decide_request(request_id: RequestId, body: DecisionIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Grant (the project's grant is made, DUO-checked) or refuse a pending request."""
    return await run_in_threadpool(
        lambda: access_requests.decide(gate, caller, request_id, decision=body.decision, note=body.note)
    )


@router.post(
    "/access-requests/{request_id}/revocation",
    response_model=AccessRequestOut,
    dependencies=[requires(policy.Action.MANAGE_GRANTS)],
)
async def revoke_request(request_id: RequestId, body: NoteIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Revoke a granted request: the project's grant of the dataset ends now."""
    return await run_in_threadpool(lambda: access_requests.revoke(gate, caller, request_id, note=body.note))


@router.post("/access-requests/{request_id}/withdrawal", response_model=AccessRequestOut)
async def withdraw_request(request_id: RequestId, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Take back your own pending request."""
    return await run_in_threadpool(lambda: access_requests.withdraw(gate, caller, request_id))
