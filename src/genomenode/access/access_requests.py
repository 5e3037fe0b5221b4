"""Researchers ask for controlled datasets; stewards decide. Every step is audited before it is written.

A request is for a project the researcher belongs to (the project's purpose is what DUO matching
reads), so the steward decides on the same facts a grant is checked against. Granting calls
`stewardship.grant`, the same act as `genomenode grant add` and POST /projects/{p}/grants, with
its DUO check; revoking calls `stewardship.revoke`. A request whose purpose already breaks the
dataset's own conditions is refused at once, with the reasons, rather than left for a steward.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from sqlalchemy import select

from genomenode.access import policy, stewardship
from genomenode.access.gate import AccessControl
from genomenode.catalog import access_requests as catalog
from genomenode.catalog import sharing
from genomenode.catalog.models import Dataset
from genomenode.errors import AccessDeniedError, AuthenticationError, InputError, NotFoundError

MAX_JUSTIFICATION = 2000
Decision = Literal["grant", "refuse"]


def _signed_in(caller: policy.Caller) -> None:
    if caller.anonymous:
        raise AuthenticationError("access requests need a signed-in user")


def _steward(caller: policy.Caller) -> None:
    decision = policy.may(caller, policy.Action.MANAGE_GRANTS)
    if not decision:
        raise AccessDeniedError(decision.reason)


def _public(row: catalog.AccessRequestRow) -> dict[str, Any]:
    return asdict(row)


def submit(
    gate: AccessControl, caller: policy.Caller, *, project: str, dataset: str, justification: str
) -> dict[str, Any]:
    _signed_in(caller)
    if not caller.has(policy.Role.RESEARCHER):
        raise AccessDeniedError("only researchers on an approved project request datasets; ask a steward for the role")
    if project not in caller.projects:
        raise AccessDeniedError(f"you are not a member of project {project!r}; a steward adds project members")
    text = justification.strip()
    if not text or len(text) > MAX_JUSTIFICATION or not all(c.isprintable() or c in "\n\r\t" for c in text):
        raise InputError(f"say why the project needs the dataset, in 1 to {MAX_JUSTIFICATION:,} printable characters")
    with gate.Session() as s, s.begin():
        proj = sharing.get_project(s, project)
        ds = s.scalar(select(Dataset).where(Dataset.name == dataset))
        if ds is None:
            raise NotFoundError(f"no dataset {dataset!r}; the datasets page lists them")
        if dataset in sharing.live_grants(s, project_id=proj.id):
            raise InputError(f"project {project} already holds a grant for {dataset}")
        if catalog.pending_for(s, project_id=proj.id, dataset_id=ds.id) is not None:
            raise InputError(f"project {project} has a pending request for {dataset}; a steward will decide it")
        stewardship.purpose_within_conditions(proj, ds)
        gate.record(caller, "access_request.submit", target=dataset, outcome="done", project=project)
        row = catalog.add_request(s, project=proj, dataset=ds, requester=caller.actor, justification=text)
    return _public(row)


def list_requests(gate: AccessControl, caller: policy.Caller, *, status: str | None = None) -> list[dict[str, Any]]:
    """A steward sees every request; a researcher those of their own projects."""
    _signed_in(caller)
    if status is not None and status not in catalog.STATUSES:
        raise InputError(f"status {status!r}: choose one of {', '.join(catalog.STATUSES)}")
    if policy.may(caller, policy.Action.MANAGE_GRANTS):
        projects = None
    elif caller.has(policy.Role.RESEARCHER):
        projects = set(caller.projects)
    else:
        raise AccessDeniedError("access requests are for researchers and data stewards")
    with gate.Session() as s:
        return [_public(r) for r in catalog.list_requests(s, projects=projects, status=status)]


def decide(
    gate: AccessControl, caller: policy.Caller, request_id: int, *, decision: Decision, note: str = ""
) -> dict[str, Any]:
    """Grant (the real grant, DUO-checked) or refuse a pending request."""
    _steward(caller)
    if decision not in ("grant", "refuse"):
        raise InputError(f"decision {decision!r}: grant or refuse")
    with gate.Session() as s:
        _, row = catalog.get_request(s, request_id)
    if row.status != "pending":
        raise InputError(f"access request {request_id} is {row.status}, not pending")
    if decision == "grant":
        with gate.Session() as s:
            held = row.dataset in sharing.live_grants(s, project_id=sharing.get_project(s, row.project).id)
        if not held:  # a grant made before a crash between the two writes is not made twice
            stewardship.grant(gate, caller, project=row.project, dataset=row.dataset)
    return _close(gate, caller, request_id, "granted" if decision == "grant" else "refused", note, expect="pending")


def revoke(gate: AccessControl, caller: policy.Caller, request_id: int, *, note: str = "") -> dict[str, Any]:
    """End a granted request: the project's grant of the dataset is revoked."""
    _steward(caller)
    with gate.Session() as s:
        _, row = catalog.get_request(s, request_id)
    if row.status != "granted":
        raise InputError(f"access request {request_id} is {row.status}; only a granted request is revoked")
    stewardship.revoke(gate, caller, project=row.project, dataset=row.dataset)
    return _close(gate, caller, request_id, "revoked", note, expect="granted")


def withdraw(gate: AccessControl, caller: policy.Caller, request_id: int) -> dict[str, Any]:
    """The requester takes back a request no steward has decided yet."""
    _signed_in(caller)
    with gate.Session() as s:
        _, row = catalog.get_request(s, request_id)
    if row.requester != caller.actor:
        raise NotFoundError(f"no access request {request_id}")  # another's request reads as none
    if row.status != "pending":
        raise InputError(f"access request {request_id} is {row.status}; only a pending request is withdrawn")
    return _close(gate, caller, request_id, "withdrawn", "", expect="pending")


def _close(
    gate: AccessControl, caller: policy.Caller, request_id: int, status: str, note: str, *, expect: str
) -> dict[str, Any]:
    note = note.strip()[:MAX_JUSTIFICATION]
    with gate.Session() as s, s.begin():
        request, row = catalog.get_request(s, request_id)
        if request.status != expect:
            raise InputError(f"access request {request_id} is {request.status} now, not {expect}")
        action = {"granted": "grant", "refused": "refuse", "revoked": "revoke", "withdrawn": "withdraw"}[status]
        gate.record(
            caller,
            f"access_request.{action}",
            target=row.dataset,
            outcome="done",
            project=row.project,
            request=request_id,
        )
        catalog.set_status(request, status=status, by=caller.actor, note=note)
        _, row = catalog.get_request(s, request_id)
    return _public(row)
