"""Beacon v2 response envelopes: meta, summary, result sets, errors (framework/json/responses).

Each dataset answers at the granularity this caller may have on it (`ResultSet.granularity`);
the response's `returnedGranularity` is the highest of those, never above what was requested.
A dataset allowed less than that still counts in `responseSummary.exists` but shows no count or
records: at `count` it appears with its count and no records, at `boolean` not at all (a result
set must carry `resultsCount`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from genomenode.beacon.framework import ENTRY_TYPES, BeaconIdentity
from genomenode.beacon.request import API_VERSION, BeaconRequest, Granularity, IncludeResultsets


@dataclass(frozen=True)
class ResultSet:
    """One dataset's answer, already cut to what the caller may see."""

    id: str
    exists: bool
    count: int | None  # None: not shown (granularity boolean)
    granularity: Granularity
    results: list[dict[str, Any]] = field(default_factory=list)
    count_precision: str = "exact"  # or "rounded": a small count shown as the floor
    info: dict[str, Any] = field(default_factory=dict)


def meta(identity: BeaconIdentity, request: BeaconRequest, returned: Granularity) -> dict[str, Any]:
    entry = ENTRY_TYPES[request.entry_type]
    summary: dict[str, Any] = {
        "apiVersion": request.api_version,
        "requestedSchemas": list(request.requested_schemas),
        "pagination": {"skip": request.skip, "limit": request.limit},
        "requestedGranularity": request.granularity.value,
        "includeResultsetResponses": request.include.value,
        "testMode": request.test_mode,
    }
    if request.filters:
        summary["filters"] = [f if isinstance(f, str) else f.get("id", "") for f in request.filters]
    if request.parameters:
        summary["requestParameters"] = request.parameters
    return {
        "beaconId": identity.beacon_id,
        "apiVersion": request.api_version,
        "returnedGranularity": returned.value,
        "receivedRequestSummary": summary,
        "returnedSchemas": [{"entityType": entry.id, "schema": entry.schema_name}],
        "testMode": request.test_mode,
    }


def returned_granularity(request: BeaconRequest, sets: list[ResultSet]) -> Granularity:
    allowed = max((s.granularity for s in sets), key=lambda g: g.rank, default=Granularity.BOOLEAN)
    return request.granularity.at_most(allowed)


def response(
    identity: BeaconIdentity, request: BeaconRequest, sets: list[ResultSet], *, info: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The boolean, count or result-sets response for these datasets' answers; `info`: the
    response's `info` (every response kind allows it), e.g. `{"warnings": [...]}`."""
    returned = returned_granularity(request, sets)
    exists = any(s.exists for s in sets)
    out: dict[str, Any] = {"meta": meta(identity, request, returned), "responseSummary": {"exists": exists}}
    if info:
        out["info"] = info
    if returned is Granularity.BOOLEAN:
        return out
    counted = [s for s in sets if s.count is not None and s.granularity.rank >= Granularity.COUNT.rank]
    out["responseSummary"]["numTotalResults"] = sum(s.count or 0 for s in counted)
    precise = all(s.count_precision == "exact" for s in counted)
    out["responseSummary"]["countPrecision"] = "exact" if precise else "rounded"
    shown = [s for s in counted if _included(request.include, s)]
    if request.include is IncludeResultsets.NONE:
        return out
    out["response"] = {"resultSets": [_result_set(request, s, returned) for s in shown]}
    return out


def _included(include: IncludeResultsets, s: ResultSet) -> bool:
    return (
        include is IncludeResultsets.ALL
        or (include is IncludeResultsets.HIT and s.exists)
        or (include is IncludeResultsets.MISS and not s.exists)
    )


def _result_set(request: BeaconRequest, s: ResultSet, returned: Granularity) -> dict[str, Any]:
    records = s.granularity is Granularity.RECORD and returned is Granularity.RECORD
    out: dict[str, Any] = {
        "id": s.id,
        "setType": "dataset",
        "exists": s.exists,
        "resultsCount": s.count or 0,
        "results": s.results if records else [],
    }
    info = dict(s.info)
    if s.count_precision != "exact":
        info["countPrecision"] = s.count_precision
    if s.granularity is not returned:
        info["granularity"] = s.granularity.value  # this dataset answers at less than the response
    if info:
        out["info"] = info
    return out


def collections(
    identity: BeaconIdentity, request: BeaconRequest, items: list[dict[str, Any]], *, total: int
) -> dict[str, Any]:
    """`/datasets` and `/cohorts`: collections are listed to anyone (they describe, not count, people)."""
    returned = request.granularity.at_most(Granularity.RECORD)
    out: dict[str, Any] = {
        "meta": meta(identity, request, returned),
        "responseSummary": {"exists": total > 0},
    }
    if returned is not Granularity.BOOLEAN:
        out["responseSummary"]["numTotalResults"] = total
    if returned is Granularity.RECORD:
        out["response"] = {"collections": items}
    return out


def error(identity: BeaconIdentity, request: BeaconRequest | None, code: int, message: str) -> dict[str, Any]:
    """beaconErrorResponse: meta (as far as the request could be read) and error."""
    meta_part: dict[str, Any] = {"beaconId": identity.beacon_id, "apiVersion": identity_api_version(request)}
    if request is not None:
        meta_part = meta(identity, request, Granularity.BOOLEAN)
    else:
        meta_part |= {
            "returnedGranularity": "boolean",
            "receivedRequestSummary": {
                "apiVersion": identity_api_version(None),
                "requestedSchemas": [],
                "pagination": {"skip": 0, "limit": 10},
                "requestedGranularity": "boolean",
            },
            "returnedSchemas": [],
        }
    return {"meta": meta_part, "error": {"errorCode": code, "errorMessage": message}}


def identity_api_version(request: BeaconRequest | None) -> str:
    return request.api_version if request is not None else API_VERSION
