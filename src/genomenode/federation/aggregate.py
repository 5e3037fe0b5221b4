"""The federated answer: every node's answer merged into one Beacon v2 response.

- `responseSummary.exists`: any node that answered found something;
- `responseSummary.numTotalResults`: the sum of the counts the nodes gave (a node answering at
  `boolean` adds none);
- `response.resultSets`: every node's result sets, each `id` prefixed with the node's Beacon id
  (`se.genomenode.beacon:national-demo`) and its `info` naming the node (`beaconId`, `node`), and
  `info.granularity` when the node answered at less than the response;
- `info.federation.nodes`: one entry per node, this one first: name, beaconId, status
  (ok, timeout, unreachable, invalid, error), elapsedMs, and error, or what it found.

The response's granularity is the highest any node answered at, never above the request's, as a
single node's is the highest of its datasets' (beacon.responses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genomenode.beacon import responses
from genomenode.beacon.framework import BeaconIdentity
from genomenode.beacon.request import BeaconRequest, Granularity, IncludeResultsets
from genomenode.federation.answers import NodeAnswer


def merge(identity: BeaconIdentity, request: BeaconRequest, answers: Sequence[NodeAnswer]) -> dict[str, Any]:
    ok = [a for a in answers if a.ok]
    highest = max((a.granularity for a in ok), key=lambda g: g.rank, default=Granularity.BOOLEAN)
    returned = request.granularity.at_most(highest)
    summary: dict[str, Any] = {"exists": any(a.exists for a in ok)}
    out: dict[str, Any] = {"meta": responses.meta(identity, request, returned), "responseSummary": summary}
    if returned is not Granularity.BOOLEAN:
        counted = [a for a in ok if a.count is not None]
        summary["numTotalResults"] = sum(a.count or 0 for a in counted)
        summary["countPrecision"] = _precision([a.count_precision for a in counted])
        if request.include is not IncludeResultsets.NONE:
            out["response"] = {"resultSets": [_tagged(a, s, returned) for a in ok for s in a.result_sets]}
    out["info"] = {"federation": {"nodes": [_node(a) for a in answers]}}
    return out


def _precision(values: Sequence[str]) -> str:
    if all(v == "exact" for v in values):
        return "exact"
    return "imprecise" if "imprecise" in values else "rounded"


def _tagged(answer: NodeAnswer, result_set: dict[str, Any], returned: Granularity) -> dict[str, Any]:
    beacon_id = answer.beacon_id or answer.name
    info = {**result_set.get("info", {}), "beaconId": beacon_id, "node": answer.name}
    if answer.granularity is not returned:
        info.setdefault("granularity", answer.granularity.value)
    records = returned is Granularity.RECORD and answer.granularity is Granularity.RECORD
    return {
        "id": f"{beacon_id}:{result_set['id']}",
        "setType": result_set.get("setType", "dataset"),
        "exists": result_set["exists"],
        "resultsCount": result_set["resultsCount"],
        "results": result_set["results"] if records else [],
        "info": info,
    }


def _node(answer: NodeAnswer) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": answer.name,
        "beaconId": answer.beacon_id,
        "status": answer.status,
        "elapsedMs": answer.elapsed_ms,
    }
    if answer.ok:
        node["exists"] = answer.exists
        node["granularity"] = answer.granularity.value
        if answer.count is not None:
            node["count"] = answer.count
    else:
        node["error"] = answer.error
    return node
