"""Rare-disease case reports for the clinicians who may see every member of the family.

A case another region's clinician asks for, or one that does not exist, gets the same 404 (the
denial is in the audit log); one `read.case` audit entry per member is written before the report
leaves (cases.service.case_report).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from genomenode.api.individuals import request_id
from genomenode.api.security import AuthenticatedCaller, Gate
from genomenode.cases.service import case_report

router = APIRouter(tags=["cases"])

MEDIA_TYPES = {
    "json": "application/json",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@router.get(
    "/cases/{name}/report",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}}},
)
async def get_case_report(
    name: str,
    caller: AuthenticatedCaller,
    gate: Gate,
    request: Request,
    format: Annotated[Literal["json", "tsv", "html"], Query(description="json, tsv or a printable html page")] = "json",
) -> Response:
    """The case's latest analysis: ranked candidates with their reasons and ACMG criteria."""
    body = await run_in_threadpool(case_report, gate, caller, name, format, request_id=request_id(request))
    return Response(body, media_type=MEDIA_TYPES[format])
