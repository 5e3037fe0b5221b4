"""A data steward's routes: projects, members, grants, consent, the audit log.

Role checks are dependencies (api.security.requires); the acts themselves are in
access.stewardship and pipeline.consent, which the CLI calls too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from genomenode.access import policy, stewardship
from genomenode.api.models import ConsentIn, DoneOut, GrantIn, MemberIn, ProjectIn
from genomenode.api.security import AuthenticatedCaller, Gate, requires
from genomenode.pipeline import consent, erasure

router = APIRouter(tags=["stewardship"])


@router.post(
    "/projects", response_model=DoneOut, status_code=201, dependencies=[requires(policy.Action.MANAGE_PROJECTS)]
)
async def create_project(body: ProjectIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    await run_in_threadpool(stewardship.create_project, gate, caller, name=body.name, purpose=body.purpose)
    return {"status": "created", "detail": {"project": body.name}}


@router.post(
    "/projects/{project}/members", response_model=DoneOut, dependencies=[requires(policy.Action.MANAGE_PROJECTS)]
)
async def add_member(project: str, body: MemberIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    await run_in_threadpool(
        lambda: stewardship.add_member(gate, caller, project=project, subject=body.subject, issuer=body.issuer)
    )
    return {"status": "added", "detail": {"project": project, "subject": body.subject}}


@router.post(
    "/projects/{project}/grants",
    response_model=DoneOut,
    status_code=201,
    dependencies=[requires(policy.Action.MANAGE_GRANTS)],
)
async def add_grant(project: str, body: GrantIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    detail = await run_in_threadpool(
        lambda: stewardship.grant(gate, caller, project=project, dataset=body.dataset, expires_at=body.expires_at)
    )
    return {"status": "granted", "detail": detail}


@router.delete(
    "/projects/{project}/grants/{dataset}", response_model=DoneOut, dependencies=[requires(policy.Action.MANAGE_GRANTS)]
)
async def revoke_grant(project: str, dataset: str, caller: AuthenticatedCaller, gate: Gate) -> Any:
    n = await run_in_threadpool(lambda: stewardship.revoke(gate, caller, project=project, dataset=dataset))
    return {"status": "revoked", "detail": {"project": project, "dataset": dataset, "grants": n}}


@router.put(
    "/individuals/{individual_id}/consent",
    response_model=DoneOut,
    dependencies=[requires(policy.Action.MANAGE_CONSENT)],
    tags=["individuals"],
)
async def set_consent(individual_id: str, body: ConsentIn, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Record a consent (DUO codes) as given; it is in force for the next request."""
    detail = await run_in_threadpool(
        lambda: consent.give(
            gate, caller, individual_id, codes=body.codes, signed_on=body.signed_on, source=body.source
        )
    )
    return {"status": "recorded", "detail": detail}


@router.post(
    "/individuals/{individual_id}/consent/withdrawal",
    response_model=DoneOut,
    dependencies=[requires(policy.Action.MANAGE_CONSENT)],
    tags=["individuals"],
)
async def withdraw_consent(individual_id: str, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Withdraw consent: from this request on, no research query or aggregate includes the person."""
    detail = await run_in_threadpool(lambda: consent.withdraw(gate, caller, individual_id))
    return {"status": "withdrawn", "detail": detail}


@router.post(
    "/individuals/{individual_id}/erasure",
    response_model=DoneOut,
    dependencies=[requires(policy.Action.ERASE)],
    tags=["individuals"],
)
async def erase_individual(individual_id: str, caller: AuthenticatedCaller, gate: Gate) -> Any:
    """Erase the person: their genotypes leave the store, the archive and the catalog; an audit
    entry records that it happened."""
    detail = await run_in_threadpool(lambda: erasure.erase(gate, caller, individual_id))
    return {"status": "erased", "detail": detail}


@router.get("/audit/verify", response_model=DoneOut, dependencies=[requires(policy.Action.READ_AUDIT)], tags=["audit"])
async def audit_verify(caller: AuthenticatedCaller, gate: Gate) -> Any:
    report = await run_in_threadpool(gate.audit_log.verify)
    gate.record(caller, "audit.verify", target="audit", outcome="done")
    return {"status": "intact", "detail": {"entries": report.entries, "last_hash": report.last_hash}}


@router.get("/audit/export", dependencies=[requires(policy.Action.READ_AUDIT)], tags=["audit"])
async def audit_export(
    caller: AuthenticatedCaller,
    gate: Gate,
    since: Annotated[datetime | None, Query(description="Entries at or after this time (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Entries before this time")] = None,
    action: Annotated[list[str] | None, Query(description="Only these actions")] = None,
) -> list[dict[str, Any]]:
    gate.record(caller, "audit.export", target="audit", outcome="done")
    return await run_in_threadpool(lambda: list(gate.audit_log.export(since=since, until=until, actions=action)))
