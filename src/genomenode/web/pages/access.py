"""Access requests in the portal: a researcher asks for a controlled dataset for a project, a
steward grants, refuses or revokes; each step is the API's own act (access.access_requests),
audited, and visible to the steward on the audit log page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from genomenode.access import access_requests, policy
from genomenode.api.errors import status_for
from genomenode.errors import GenomenodeError
from genomenode.web.session import CsrfChecked, SignedIn, gate_of
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
NOTICES = {
    "submitted": "Your request was sent; a data steward will decide it.",
    "granted": "Granted: the project may use the dataset from now on.",
    "refused": "Refused; the researcher sees your note.",
    "revoked": "Revoked: the project's grant has ended.",
    "withdrawn": "Your request was withdrawn.",
}


def _page(request: Request, caller: policy.Caller, *, error: str | None = None, status_code: int = 200) -> Response:
    gate = gate_of(request)
    steward = bool(policy.may(caller, policy.Action.MANAGE_GRANTS))
    researcher = caller.has(policy.Role.RESEARCHER)
    requests = access_requests.list_requests(gate, caller) if steward or researcher else []
    datasets = [d.name for d in gate.datasets() if d.level == policy.Level.CONTROLLED] if researcher else []
    return render(
        request,
        "access.html",
        status_code=status_code,
        title="Access",
        steward=steward,
        researcher=researcher,
        pending=[r for r in requests if r["status"] == "pending"],
        decided=[r for r in requests if r["status"] != "pending"],
        projects=sorted(caller.projects),
        grants={p: sorted(gate.project(p).granted_datasets) for p in sorted(caller.projects)} if researcher else {},
        datasets=datasets,
        notice=NOTICES.get(request.query_params.get("done", "")),
        error=error,
    )


@router.get("/access")
async def access_page(request: Request, caller: SignedIn) -> Response:
    return await run_in_threadpool(_page, request, caller)


@router.post("/access")
async def submit_request(
    request: Request,
    caller: SignedIn,
    _: CsrfChecked,
    project: Annotated[str, Form()],
    dataset: Annotated[str, Form()],
    justification: Annotated[str, Form()] = "",
) -> Response:
    gate = gate_of(request)
    try:
        await run_in_threadpool(
            lambda: access_requests.submit(gate, caller, project=project, dataset=dataset, justification=justification)
        )
    except GenomenodeError as exc:
        message, status = str(exc), status_for(exc)
        return await run_in_threadpool(lambda: _page(request, caller, error=message, status_code=status))
    return RedirectResponse("/access?done=submitted", status_code=303)


@router.post("/access/{request_id}/decision")
async def decide_request(
    request: Request,
    request_id: int,
    caller: SignedIn,
    _: CsrfChecked,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    gate = gate_of(request)

    def act() -> dict[str, Any]:
        if decision == "revoke":
            return access_requests.revoke(gate, caller, request_id, note=note)
        if decision == "withdraw":
            return access_requests.withdraw(gate, caller, request_id)
        return access_requests.decide(gate, caller, request_id, decision=decision, note=note)  # type: ignore[arg-type]

    try:
        done = await run_in_threadpool(act)
    except GenomenodeError as exc:
        message, status = str(exc), status_for(exc)
        return await run_in_threadpool(lambda: _page(request, caller, error=message, status_code=status))
    return RedirectResponse(f"/access?done={done['status']}#request-{request_id}", status_code=303)
