"""GA4GH Beacon v2 under /api: framework endpoints, entry types, cross-lookups; GET and POST.

A thin shell: beacon.request reads the request, beacon.service answers it under the node's policy.
Errors leave as beaconErrorResponse documents (with the HTTP status the error maps to), since
Beacon clients read `error.errorCode` and `errorMessage`, not the node's own error shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from genomenode.access import policy
from genomenode.access.ratelimit import RateLimiter
from genomenode.api.errors import error_headers, status_for
from genomenode.api.security import CurrentCaller
from genomenode.beacon import framework
from genomenode.beacon.framework import BeaconIdentity
from genomenode.beacon.request import BeaconRequest, from_body, from_query
from genomenode.beacon.responses import error as error_document
from genomenode.beacon.service import BeaconService
from genomenode.errors import BeaconRequestError, GenomenodeError, RateLimitedError

router = APIRouter(prefix="/api", tags=["beacon"])

EntryPath = Literal["g_variants", "individuals", "biosamples", "runs", "analyses", "datasets", "cohorts"]


def service_of(request: Request) -> BeaconService:
    service: BeaconService = request.app.state.beacon
    return service


def identity_of(request: Request) -> BeaconIdentity:
    identity: BeaconIdentity = request.app.state.beacon.identity
    return identity


# -- framework --------------------------------------------------------------------------------
@router.get("", summary="Beacon information (same as /api/info)")
async def root(request: Request) -> JSONResponse:
    return JSONResponse(framework.info(identity_of(request)))


@router.get("/info", summary="Beacon information")
async def info(request: Request) -> JSONResponse:
    return JSONResponse(framework.info(identity_of(request)))


@router.get("/service-info", summary="GA4GH service-info")
async def service_info(request: Request) -> JSONResponse:
    return JSONResponse(framework.service_info(identity_of(request)))


@router.get("/configuration", summary="Beacon configuration")
async def configuration(request: Request) -> JSONResponse:
    return JSONResponse(framework.configuration(identity_of(request)))


@router.get("/map", summary="Beacon map of endpoints")
async def beacon_map(request: Request) -> JSONResponse:
    return JSONResponse(framework.beacon_map(identity_of(request)))


@router.get("/entry_types", summary="Entry types this beacon serves")
async def entry_types(request: Request) -> JSONResponse:
    return JSONResponse(framework.entry_types(identity_of(request)))


@router.get("/filtering_terms", summary="Filtering terms this beacon understands")
async def filtering_terms(request: Request) -> JSONResponse:
    service = service_of(request)
    return JSONResponse(await run_in_threadpool(service.filtering_terms))


# -- entry types ------------------------------------------------------------------------------
def parse_get(request: Request, entry: str) -> BeaconRequest:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return from_query(entry, params)


async def parse_post(request: Request, entry: str) -> BeaconRequest:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as e:
        raise BeaconRequestError(f"the request body is not JSON: {e}") from None
    return from_body(entry, body)


async def _answer(
    request: Request,
    caller: policy.Caller,
    entry: str,
    parsed: BeaconRequest | None,
    work: Callable[[BeaconService, policy.Caller, BeaconRequest], dict[str, Any]],
) -> JSONResponse:
    identity = identity_of(request)
    try:
        within_rate(request, caller)
        if parsed is None:
            parsed = parse_get(request, entry) if request.method == "GET" else await parse_post(request, entry)
        service = service_of(request)
        document = await run_in_threadpool(work, service, caller, parsed)
        return JSONResponse(document)
    except GenomenodeError as e:
        status = status_for(e)
        if status >= 500:
            raise
        document = error_document(identity, parsed, status, str(e))
        return JSONResponse(document, status_code=status, headers=error_headers(e))


def within_rate(request: Request, caller: policy.Caller) -> None:
    """One bucket per caller: their identity, or their address when anonymous."""
    limiter: RateLimiter = request.app.state.beacon_rate
    key = caller.actor if not caller.anonymous else f"ip:{request.client.host if request.client else '?'}"
    wait = limiter.take(key)
    if wait > 0:
        raise RateLimitedError(
            f"more than {request.app.state.settings.beacon_rate_limit} Beacon requests a minute from this caller; "
            f"try again in {wait:.0f} s",
            retry_after=wait,
        )


PEOPLE = ("individuals", "biosamples", "runs", "analyses")


def entry_work(entry: str, *, id: str | None = None, via: tuple[str, str] | None = None) -> Any:
    """The service call for an entry type, optionally one record (`id`) or under another (`via`)."""

    def work(service: BeaconService, caller: policy.Caller, parsed: BeaconRequest) -> dict[str, Any]:
        source, source_id = via if via is not None else (None, None)
        dataset = source_id if source == "datasets" else None
        if entry == "datasets":
            return service.datasets(caller, parsed, dataset=id)
        if entry == "cohorts":
            return service.cohorts(caller, parsed, cohort=id)
        if entry in PEOPLE:
            if source not in (None, "datasets", "g_variants", "cohorts"):
                raise BeaconRequestError(f"{source}/{{id}}/{entry} is not answered by this node yet")
            return service.individuals(
                caller,
                parsed,
                dataset=dataset,
                variant_id=source_id if source == "g_variants" else None,
                centre=source_id if source == "cohorts" else None,
                kind=entry,
                record_id=id,
            )
        if source not in (None, "datasets", "individuals"):
            raise BeaconRequestError(f"{source}/{{id}}/g_variants is not answered by this node yet")
        person = source_id if source == "individuals" else None
        return service.g_variants(caller, parsed, dataset=dataset, variant_id=id, person=person)

    return work


Body_ = Annotated[dict[str, Any] | None, Body(description="A Beacon v2 request body: {meta, query}")]
EntryId = Annotated[str, Path(description="A record id, as the entry type's records carry it")]


@router.get("/{entry}", summary="Query an entry type (GET)")
async def entry_get(request: Request, caller: CurrentCaller, entry: EntryPath) -> JSONResponse:
    return await _answer(request, caller, entry, None, entry_work(entry))


@router.post("/{entry}", summary="Query an entry type (POST)")
async def entry_post(request: Request, caller: CurrentCaller, entry: EntryPath, body: Body_ = None) -> JSONResponse:
    return await _answer(request, caller, entry, None, entry_work(entry))


@router.get("/{entry}/{id}", summary="One record of an entry type (GET)")
async def record_get(request: Request, caller: CurrentCaller, entry: EntryPath, id: EntryId) -> JSONResponse:
    return await _answer(request, caller, entry, None, entry_work(entry, id=id))


@router.post("/{entry}/{id}", summary="One record of an entry type (POST)")
async def record_post(
    request: Request, caller: CurrentCaller, entry: EntryPath, id: EntryId, body: Body_ = None
) -> JSONResponse:
    return await _answer(request, caller, entry, None, entry_work(entry, id=id))


@router.get("/{entry}/{id}/{target}", summary="Records of one entry type linked to a record of another (GET)")
async def linked_get(
    request: Request, caller: CurrentCaller, entry: EntryPath, id: EntryId, target: EntryPath
) -> JSONResponse:
    return await _linked(request, caller, entry, id, target)


@router.post("/{entry}/{id}/{target}", summary="Records of one entry type linked to a record of another (POST)")
async def linked_post(
    request: Request, caller: CurrentCaller, entry: EntryPath, id: EntryId, target: EntryPath, body: Body_ = None
) -> JSONResponse:
    return await _linked(request, caller, entry, id, target)


async def _linked(request: Request, caller: policy.Caller, entry: str, id: str, target: str) -> JSONResponse:
    if target not in framework.CROSS_LOOKUPS.get(entry, ()):
        identity = identity_of(request)
        message = f"{entry}/{{id}}/{target} is not a lookup this beacon offers; /api/map lists them"
        return JSONResponse(error_document(identity, None, 404, message), status_code=404)
    return await _answer(request, caller, target, None, entry_work(target, via=(entry, id)))
