"""Federated Beacon queries under /api/federated: this node and its peers (GENOMENODE_PEERS_FILE).

`GET|POST /api/federated/{g_variants|individuals}` take the same parameters as /api/{entry} and
answer one Beacon response merged from every node (federation.aggregate), reporting each peer
that failed instead of failing. A request carrying `Genomenode-Forwarded-By` comes from a peer:
it is answered from this node's data only, for the peer its token proves (else the public), at
no more than counts. Requests count against the caller's Beacon rate limit (a peer node is one
caller). A thin shell: federation.service does the work, api.beacon's parsing and
answering are reused so both routes read a request the same way.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from genomenode.access import policy
from genomenode.api import beacon
from genomenode.api.errors import error_headers, status_for
from genomenode.api.security import Gate, current_caller
from genomenode.beacon.request import BeaconRequest
from genomenode.beacon.responses import error as error_document
from genomenode.errors import GenomenodeError
from genomenode.federation.client import FORWARDED_HEADER
from genomenode.federation.service import Federation

router = APIRouter(prefix="/api/federated", tags=["federation"])

FederatedEntry = Literal["g_variants", "individuals"]
_bearer = HTTPBearer(
    auto_error=False, description="A JWT from this node or a trusted issuer; from a peer node, its node token"
)


def _federation(request: Request) -> Federation:
    federation: Federation = request.app.state.federation
    return federation


def _forwarded(request: Request) -> bool:
    return FORWARDED_HEADER in request.headers


def federation_caller(
    request: Request, gate: Gate, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> policy.Caller:
    """A user as on every route; on a forwarded request, the peer node its token proves, or the
    public when the token is unknown or does not verify (federation.auth)."""
    if _forwarded(request):
        return _federation(request).peer_caller(request.headers.get("authorization"))
    return current_caller(request, gate, credentials)


FederationCaller = Annotated[policy.Caller, Depends(federation_caller)]
Body_ = Annotated[dict[str, Any] | None, Body(description="A Beacon v2 request body: {meta, query}")]


@router.get("/{entry}", summary="Query this node and its peer nodes (GET)")
async def federated_get(request: Request, caller: FederationCaller, entry: FederatedEntry) -> JSONResponse:
    return await _federated(request, caller, entry)


@router.post("/{entry}", summary="Query this node and its peer nodes (POST)")
async def federated_post(
    request: Request, caller: FederationCaller, entry: FederatedEntry, body: Body_ = None
) -> JSONResponse:
    return await _federated(request, caller, entry)


async def _federated(request: Request, caller: policy.Caller, entry: str) -> JSONResponse:
    identity = beacon.identity_of(request)
    parsed: BeaconRequest | None = None
    try:
        beacon.within_rate(request, caller)  # the same bucket as /api: a federated request counts once
        if request.method == "GET":
            parsed = beacon.parse_get(request, entry)
        else:
            parsed = await beacon.parse_post(request, entry)
        federation = _federation(request)
        work = partial(beacon.entry_work(entry), beacon.service_of(request), caller)
        if _forwarded(request):
            parsed = federation.forwarded_request(caller, parsed)
            document = await run_in_threadpool(work, parsed)
        else:
            document = await federation.query(caller, parsed, local=partial(work, parsed))
        return JSONResponse(document)
    except GenomenodeError as e:
        status = status_for(e)
        if status >= 500:
            raise
        document = error_document(identity, parsed, status, str(e))
        return JSONResponse(document, status_code=status, headers=error_headers(e))
