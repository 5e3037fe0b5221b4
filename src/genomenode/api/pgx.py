"""Pharmacogenomics over HTTP: a person's PGx report for the clinicians who may see them, and the
phenotype frequencies for everyone (small counts hidden below a steward).

Another region's person, or one who does not exist, gets the same 404 (the denial is audited);
the `read.pgx` audit entry is written before any genotype is read (pgx.service).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from genomenode.api.individuals import request_id
from genomenode.api.security import AuthenticatedCaller, CurrentCaller, Gate
from genomenode.pgx.report_html import render_html
from genomenode.pgx.service import pgx_for_stored, pgx_summary
from genomenode.query.service import NodeQueries

router = APIRouter(tags=["pharmacogenomics"])

MEDIA_TYPES = {"json": "application/json", "html": "text/html; charset=utf-8"}


@router.get(
    "/individuals/{individual_id}/pgx",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}}},
)
async def get_pgx_report(
    individual_id: str,
    caller: AuthenticatedCaller,
    gate: Gate,
    request: Request,
    format: Annotated[
        Literal["json", "html"], Query(description="json (the report) or a printable html page")
    ] = "json",
) -> Response:
    """Star-allele diplotypes, phenotypes, missing positions, warnings and CPIC recommendations
    for the person's GRCh38 sample (PharmCAT's method; CYP2D6 needs an outside call)."""
    queries: NodeQueries = request.app.state.queries
    report = await run_in_threadpool(
        pgx_for_stored, gate, queries, caller, individual_id, request_id=request_id(request)
    )
    if format == "html":
        return Response(render_html(report, generated=datetime.now(UTC)), media_type=MEDIA_TYPES["html"])
    return Response(json.dumps(report), media_type=MEDIA_TYPES["json"])


@router.get("/pgx/summary")
async def get_pgx_summary(
    caller: CurrentCaller,
    gate: Gate,
    request: Request,
    dataset: Annotated[str | None, Query(description="One dataset [default: the whole node]")] = None,
) -> Any:
    """How common each PGx phenotype is, nation-wide and per region and population: exact for a
    steward, small counts hidden (null) for everyone else."""
    queries: NodeQueries = request.app.state.queries
    return await run_in_threadpool(pgx_summary, gate, queries, caller, dataset=dataset)
