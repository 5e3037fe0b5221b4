"""The audit log for data stewards: every access to individual-level data and every act on the
node, newest first, filtered by action, with the hash chain checked as it is read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from genomenode.access import policy
from genomenode.errors import AccessDeniedError
from genomenode.web.paging import link
from genomenode.web.session import SignedIn, gate_of
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 100


@router.get("/stewardship/log")
async def audit_page(request: Request, caller: SignedIn, action: str = "", page: int = 1) -> Response:
    decision = policy.may(caller, policy.Action.READ_AUDIT)
    if not decision:
        raise AccessDeniedError(decision.reason)
    gate = gate_of(request)

    def load() -> tuple[list[dict[str, object]], list[str], int]:
        everything = list(gate.audit_log.export())  # verifies the chain as it reads
        actions = sorted({str(e["action"]) for e in everything})
        chosen = action.strip()
        if chosen.endswith(".*"):
            kept = [e for e in everything if str(e["action"]).startswith(chosen[:-1])]
        elif chosen:
            kept = [e for e in everything if e["action"] == chosen]
        else:
            kept = everything
        gate.record(caller, "audit.read", target="audit", outcome="done", via="portal", filter=chosen)
        return kept[::-1], actions, len(everything)

    entries, actions, total = await run_in_threadpool(load)
    pages = max(1, -(-len(entries) // PAGE))
    page = min(max(1, page), pages)
    return render(
        request,
        "audit.html",
        title="Audit log",
        entries=entries[(page - 1) * PAGE : page * PAGE],
        shown=len(entries),
        total=total,
        actions=actions,
        families=sorted({f"{a.split('.')[0]}.*" for a in actions if "." in a}),
        action=action,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE + 1,
        link=link,
    )
