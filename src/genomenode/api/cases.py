"""Rare-disease case reports for the clinicians who may see every member of the family.

A case another region's clinician asks for, or one that does not exist, gets the same 404 (the
denial is in the audit log); one `read.case` audit entry per member is written before the report
leaves (cases.service.case_report). Clinicians' notes on the candidates follow the case's rule
(cases.notes): read and appended by whoever may see the case, never changed or deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from genomenode.api.individuals import request_id
from genomenode.api.security import AuthenticatedCaller, Gate
from genomenode.cases import notes as case_notes
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


Classification = Literal["pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign"]


class NoteIn(BaseModel):
    variant: str = Field(description="One of the case's latest candidates, chrom-pos-ref-alt", max_length=512)
    text: str = Field(description="Plain text, at most 4,000 characters", max_length=4000)
    classification: Classification | None = Field(default=None, description="ACMG/AMP five-tier class, if any")
    gene: str | None = Field(
        default=None, description="The candidate's gene, when the variant is in two", max_length=64
    )


class NoteOut(BaseModel):
    id: int
    case: str
    variant: str
    gene: str | None
    author: str
    created_at: datetime
    text: str
    classification: Classification | None


@router.get("/cases/{name}/notes", response_model=list[NoteOut])
async def get_case_notes(name: str, caller: AuthenticatedCaller, gate: Gate, request: Request) -> Any:
    """The clinicians' notes on the case's candidates, oldest first; the newest classified note of
    a variant is its current ACMG/AMP class."""
    found = await run_in_threadpool(case_notes.notes, gate, caller, name, request_id=request_id(request))
    return [n.as_dict() for n in found]


@router.post("/cases/{name}/notes", response_model=NoteOut, status_code=201)
async def add_case_note(name: str, body: NoteIn, caller: AuthenticatedCaller, gate: Gate, request: Request) -> Any:
    """Append a note, optionally classifying the candidate; notes are kept with author and time."""
    note = await run_in_threadpool(
        lambda: case_notes.add_note(
            gate,
            caller,
            name,
            variant=body.variant,
            text=body.text,
            classification=body.classification,
            gene=body.gene,
            request_id=request_id(request),
        )
    )
    return note.as_dict()
