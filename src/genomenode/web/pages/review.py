"""Case review: the cases a clinician may see, and one case's ranked candidates with their
evidence, the page's filters and the clinicians' notes (cases.review, cases.notes).

A case the caller may not see is the same 404 page as one that does not exist. Notes are posted
with the CSRF value and land back on the candidate they were written on (303, anchored), with the
filters the page had.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from genomenode.api.individuals import request_id
from genomenode.cases import notes as case_notes
from genomenode.cases.review import CONSEQUENCE_CLASSES, CandidateFilter, overview, review, variant_key
from genomenode.catalog.case_notes import CLASSIFICATIONS, current_classes
from genomenode.errors import InputError
from genomenode.web.session import CsrfChecked, PortalCaller, SignedIn, gate_of
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
FILTER_KEYS = ("inheritance", "max_af", "consequence", "min_score", "gene")
CLASS_LABELS = {c: c.replace("_", " ").capitalize() for c in CLASSIFICATIONS}
CLASS_BADGES = {
    "pathogenic": "badge-bad",
    "likely_pathogenic": "badge-bad",
    "uncertain_significance": "badge-warn",
    "likely_benign": "badge-ok",
    "benign": "badge-ok",
}


@router.get("/review")
async def review_list(request: Request, caller: PortalCaller) -> Response:
    if caller.anonymous:
        return render(request, "review_list.html", title="Cases", cases=None)
    gate = gate_of(request)
    cases = await run_in_threadpool(lambda: overview(gate, caller, request_id=request_id(request)))
    return render(request, "review_list.html", title="Cases", cases=cases)


def _number(name: str, value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError(f"filter {name}: {value!r} is not a number") from None


@router.get("/review/{case}")
async def review_case(
    request: Request,
    case: str,
    caller: SignedIn,
    inheritance: Annotated[str | None, Query()] = None,
    max_af: Annotated[str | None, Query()] = None,
    consequence: Annotated[str | None, Query()] = None,
    min_score: Annotated[str | None, Query()] = None,
    gene: Annotated[str | None, Query()] = None,
) -> Response:
    chosen = CandidateFilter(
        inheritance=inheritance or None,
        max_af=_number("max_af", max_af),
        consequence=consequence if consequence in CONSEQUENCE_CLASSES else None,
        min_score=_number("min_score", min_score),
        gene=(gene or "").strip() or None,
    )
    gate = gate_of(request)
    found = await run_in_threadpool(lambda: review(gate, caller, case, chosen, request_id=request_id(request)))
    params = {"inheritance": inheritance, "max_af": max_af, "consequence": consequence}
    params |= {"min_score": min_score, "gene": gene}
    return render(
        request,
        "review_case.html",
        title=f"Case {case}",
        review=found,
        params={k: v or "" for k, v in params.items()},
        query=_query(params),
        current={v: n.classification for v, n in current_classes(n for ns in found.notes.values() for n in ns).items()},
        consequence_classes=CONSEQUENCE_CLASSES,
        classifications=CLASS_LABELS,
        badges=CLASS_BADGES,
        variant_key=variant_key,
        anchor=anchor,
        stored=len((found.result or {}).get("candidates") or []),
    )


def anchor(c: dict[str, object]) -> str:
    """The candidate's element id on the page (a variant may be a candidate in two genes)."""
    return f"v-{variant_key(c)}-{c['gene'] or ''}"


def _query(params: dict[str, str | None]) -> str:
    """The filters as a query string (only the known keys, only set ones)."""
    return urlencode({k: v for k, v in params.items() if k in FILTER_KEYS and v})


@router.post("/review/{case}/notes")
async def post_note(
    request: Request,
    case: str,
    caller: SignedIn,
    _: CsrfChecked,
    variant: Annotated[str, Form()],
    text: Annotated[str, Form()],
    gene: Annotated[str | None, Form()] = None,
    classification: Annotated[str | None, Form()] = None,
    filters: Annotated[str | None, Form()] = None,
) -> Response:
    gate = gate_of(request)
    note = await run_in_threadpool(
        lambda: case_notes.add_note(
            gate,
            caller,
            case,
            variant=variant,
            text=text,
            classification=classification or None,
            gene=gene or None,
            request_id=request_id(request),
        )
    )
    kept = _query(dict(parse_qsl(filters or "")))
    target = f"/review/{quote(case, safe='')}" + (f"?{kept}" if kept else "")
    return RedirectResponse(f"{target}#v-{note.variant}-{note.gene or ''}", status_code=303)
