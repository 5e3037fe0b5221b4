"""One node's answer to a federated query: checked, and reduced to what the merge needs.

A peer's body is untrusted input. It is accepted only when it looks like a Beacon v2 boolean,
count or result-sets response (framework/json/responses): `meta.beaconId` and
`meta.returnedGranularity`, `responseSummary.exists` (a boolean) and, from `count` up,
`responseSummary.numTotalResults` (a non-negative integer); result sets, when present, each with
`id`, `exists`, `resultsCount` and `results`. Anything else is `invalid`, with a short reason
that never quotes the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from genomenode.beacon.request import Granularity

Status = Literal["ok", "timeout", "unreachable", "invalid", "error"]
MAX_RESULT_SETS = 1000
MAX_MESSAGE = 200


class InvalidAnswer(ValueError):
    """A body that is not a Beacon response; the message says what was wrong."""


@dataclass(frozen=True)
class NodeAnswer:
    """One node's part of a federated answer: `status` "ok" with its counts and result sets, or
    why there is none (`timeout`, `unreachable`, `invalid`, `error`) in `error`."""

    name: str
    beacon_id: str | None
    status: Status
    elapsed_ms: int
    error: str | None = None
    exists: bool = False
    count: int | None = None  # None: not shown (boolean granularity) or no answer
    count_precision: str = "exact"
    granularity: Granularity = Granularity.BOOLEAN
    result_sets: tuple[dict[str, Any], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def failed(name: str, beacon_id: str | None, status: Status, error: str, *, elapsed_ms: int) -> NodeAnswer:
    return NodeAnswer(name, beacon_id, status, elapsed_ms, error=short(error))


def read_answer(name: str, document: Any, *, elapsed_ms: int, beacon_id: str | None = None) -> NodeAnswer:
    """The answer in a Beacon response document; InvalidAnswer if it is not one. `beacon_id`,
    when given, is the id the node must answer as."""
    if not isinstance(document, dict):
        raise InvalidAnswer("the body is not a JSON object")
    meta = _object(document, "meta")
    answered_as = meta.get("beaconId")
    if not isinstance(answered_as, str) or not answered_as.strip() or len(answered_as) > 200:
        raise InvalidAnswer("meta.beaconId is missing or not a short string")
    if beacon_id is not None and answered_as != beacon_id:
        raise InvalidAnswer(f"answered as beacon {short(answered_as)!r}, the peers file names {beacon_id!r}")
    returned = meta.get("returnedGranularity")
    if returned not in ("boolean", "count", "record"):
        raise InvalidAnswer("meta.returnedGranularity is not boolean, count or record")
    granularity = Granularity(returned)
    summary = _object(document, "responseSummary")
    exists = summary.get("exists")
    if not isinstance(exists, bool):
        raise InvalidAnswer("responseSummary.exists is missing or not a boolean")
    count: int | None = None
    if granularity is not Granularity.BOOLEAN:
        count = _count(summary.get("numTotalResults"), "responseSummary.numTotalResults")
    precision = summary.get("countPrecision", "exact")
    if precision not in ("exact", "imprecise", "rounded"):
        raise InvalidAnswer("responseSummary.countPrecision is not exact, imprecise or rounded")
    sets: list[dict[str, Any]] = []
    response = document.get("response")
    if granularity is not Granularity.BOOLEAN and response is not None:
        if not isinstance(response, dict):
            raise InvalidAnswer("response is not an object")
        raw_sets = response.get("resultSets", [])
        if not isinstance(raw_sets, list) or len(raw_sets) > MAX_RESULT_SETS:
            raise InvalidAnswer(f"response.resultSets is not a list of at most {MAX_RESULT_SETS}")
        sets = [_result_set(s, i, records=granularity is Granularity.RECORD) for i, s in enumerate(raw_sets)]
    return NodeAnswer(
        name=name,
        beacon_id=answered_as,
        status="ok",
        elapsed_ms=elapsed_ms,
        exists=exists,
        count=count,
        count_precision=precision,
        granularity=granularity,
        result_sets=tuple(sets),
    )


def error_message(document: Any) -> str | None:
    """`error.errorMessage` of a Beacon error response, when the body is one."""
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        message = document["error"].get("errorMessage")
        if isinstance(message, str):
            return short(message)
    return None


def short(text: str) -> str:
    """An untrusted message as a federated answer may repeat it: one line, at most MAX_MESSAGE characters."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _object(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    if not isinstance(value, dict):
        raise InvalidAnswer(f"{key} is missing or not an object")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidAnswer(f"{where} is missing or not a non-negative integer")
    return value


def _result_set(value: Any, index: int, *, records: bool) -> dict[str, Any]:
    where = f"response.resultSets[{index}]"
    if not isinstance(value, dict):
        raise InvalidAnswer(f"{where} is not an object")
    set_id = value.get("id")
    if not isinstance(set_id, str) or not set_id or len(set_id) > 200:
        raise InvalidAnswer(f"{where}.id is missing or not a short string")
    exists = value.get("exists")
    if not isinstance(exists, bool):
        raise InvalidAnswer(f"{where}.exists is missing or not a boolean")
    count = _count(value.get("resultsCount"), f"{where}.resultsCount")
    results = value.get("results", [])
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise InvalidAnswer(f"{where}.results is not a list of objects")
    set_type = value.get("setType", "dataset")
    info = value.get("info", {})
    if not isinstance(set_type, str) or not isinstance(info, dict):
        raise InvalidAnswer(f"{where}.setType or .info has the wrong type")
    return {
        "id": set_id,
        "setType": set_type,
        "exists": exists,
        "resultsCount": count,
        "results": results if records else [],
        "info": info,
    }
