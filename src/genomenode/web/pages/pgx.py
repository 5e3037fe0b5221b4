"""A person's pharmacogenomic report as a portal page, for the clinicians who may see them.

The same service as the API's GET /individuals/{id}/pgx (pgx.service.pgx_for_stored): the person is
named by their sample name or the node's pseudonym, another region's person is the same 404 as
nobody, and the `read.pgx` audit entry is written before any genotype is read.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from genomenode.api.individuals import request_id
from genomenode.pgx.service import pgx_for_stored
from genomenode.web.session import SignedIn, gate_of
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/person/{individual_id}/pgx")
async def pgx_page(request: Request, individual_id: str, caller: SignedIn) -> Response:
    gate, queries = gate_of(request), request.app.state.queries
    report = await run_in_threadpool(
        lambda: pgx_for_stored(gate, queries, caller, individual_id, request_id=request_id(request))
    )
    return render(request, "pgx.html", title=f"PGx report {report['sample']}", report=report)
