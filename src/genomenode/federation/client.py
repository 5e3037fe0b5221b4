"""The fan-out: one Beacon request to every peer at once, each answer checked, no failure raised.

Each peer is asked with `POST <base_url>/api/federated/<entry>`, the request re-written as a
canonical Beacon body (`request_body`), this node's token for that peer, and the
`FORWARDED_HEADER`, which tells the peer to answer from its own data only (so a federation of
nodes that all list each other never loops). A peer gets `min(its timeout, what is left of the
deadline)` for the whole exchange, connection to last byte; redirects are not followed; a body
larger than MAX_BODY_BYTES is cut off. Whatever goes wrong becomes that peer's status:

    timeout      no complete answer in time
    unreachable  connection refused or reset, DNS or TLS failure
    invalid      200 but not JSON, not application/json, too large, or not a Beacon response
    error        any other HTTP status (the peer's Beacon errorMessage when it sent one)

Loopback peers are called directly even when the environment names an HTTP proxy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from genomenode.beacon.request import BeaconRequest
from genomenode.federation.answers import InvalidAnswer, NodeAnswer, Status, error_message, failed, read_answer
from genomenode.federation.peers import Peer

logger = logging.getLogger(__name__)

#: present on a request one node sends another; its value is the asking node's Beacon id
FORWARDED_HEADER = "Genomenode-Forwarded-By"
MAX_BODY_BYTES = 8 << 20
_JSON_TYPES = ("application/json", "application/problem+json")
_LOOPBACK = ("all://127.0.0.1", "all://localhost", "all://[::1]")


def request_body(request: BeaconRequest) -> dict[str, Any]:
    """The request as a Beacon v2 POST body, from its parsed (checked) values only."""
    query: dict[str, Any] = {
        "requestParameters": dict(request.parameters),
        "includeResultsetResponses": request.include.value,
        "pagination": {"skip": request.skip, "limit": request.limit},
        "requestedGranularity": request.granularity.value,
        "testMode": request.test_mode,
    }
    if request.filters:
        query["filters"] = list(request.filters)
    meta = {"apiVersion": request.api_version, "requestedSchemas": [dict(s) for s in request.requested_schemas]}
    return {"meta": meta, "query": query}


async def fan_out(
    peers: Sequence[Peer],
    *,
    entry: str,
    body: dict[str, Any],
    token_for: Callable[[Peer], str],
    forwarded_by: str,
    timeout: float,
    deadline: float,
) -> list[NodeAnswer]:
    """Every peer's answer, in the order of `peers`; never raises for a peer's failure."""
    if not peers:
        return []
    deadline_at = time.monotonic() + deadline
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {p: httpx.AsyncHTTPTransport() for p in _LOOPBACK}
    async with httpx.AsyncClient(follow_redirects=False, mounts=mounts) as client:
        return list(
            await asyncio.gather(
                *(_ask(client, peer, entry, body, token_for, forwarded_by, timeout, deadline_at) for peer in peers)
            )
        )


async def _ask(
    client: httpx.AsyncClient,
    peer: Peer,
    entry: str,
    body: dict[str, Any],
    token_for: Callable[[Peer], str],
    forwarded_by: str,
    timeout: float,
    deadline_at: float,
) -> NodeAnswer:
    started = time.monotonic()
    limit = max(0.0, min(peer.timeout_seconds or timeout, deadline_at - started))

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    def fail(status: Status, reason: str) -> NodeAnswer:
        logger.warning("federated %s: peer %s %s: %s", entry, peer.name, status, reason)
        return failed(peer.name, peer.beacon_id, status, reason, elapsed_ms=elapsed())

    headers = {
        "Authorization": f"Bearer {token_for(peer)}",
        FORWARDED_HEADER: forwarded_by,
        "Accept": "application/json",
    }
    try:
        async with asyncio.timeout(limit):
            async with client.stream(
                "POST", peer.endpoint(entry), json=body, headers=headers, timeout=httpx.Timeout(limit)
            ) as response:
                raw = await _read(response)
    except (TimeoutError, httpx.TimeoutException):
        return fail("timeout", f"no answer within {limit:.1f} s")
    except _TooLarge:
        return fail("invalid", f"the answer is larger than {MAX_BODY_BYTES} bytes")
    except (httpx.RemoteProtocolError, httpx.DecodingError) as exc:
        return fail("invalid", f"not a well-formed HTTP answer ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return fail("unreachable", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    status = response.status_code
    document = _json(raw) if _is_json(response) else None
    if status != 200:
        message = error_message(document)
        return fail("error", f"HTTP {status}" + (f": {message}" if message else ""))
    if not _is_json(response):
        return fail("invalid", f"content type {response.headers.get('content-type', 'none')!r}, not application/json")
    if document is None:
        return fail("invalid", "the body is not JSON")
    try:
        return read_answer(peer.name, document, elapsed_ms=elapsed(), beacon_id=peer.beacon_id)
    except InvalidAnswer as exc:
        return fail("invalid", f"not a Beacon response: {exc}")


class _TooLarge(Exception):
    pass


async def _read(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(response: httpx.Response) -> bool:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _json(raw: bytes) -> Any:
    """The parsed body, or None when it is not JSON (NaN and Infinity are not JSON either)."""
    try:
        return json.loads(raw, parse_constant=_refuse)
    except (ValueError, RecursionError):
        return None


def _refuse(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
