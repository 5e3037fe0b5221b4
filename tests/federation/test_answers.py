"""Peers' answers are untrusted: any JSON is either a checked Beacon answer or `InvalidAnswer`,
and the request a node forwards reads back as the request it was asked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.beacon.framework import BeaconIdentity
from genomenode.beacon.request import from_body, from_query
from genomenode.federation.aggregate import merge
from genomenode.federation.answers import InvalidAnswer, failed, read_answer
from genomenode.federation.client import request_body
from tests.beacon.schemas import assert_valid_response
from tests.federation.nodes import beacon_count_answer

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["meta", "responseSummary", "response", "beaconId", "returnedGranularity", "exists"])
beacon_like = st.fixed_dictionaries(
    {
        "meta": st.fixed_dictionaries(
            {"beaconId": st.text(max_size=5) | st.integers(), "returnedGranularity": st.sampled_from(["count", "x"])}
        ),
        "responseSummary": st.dictionaries(st.sampled_from(["exists", "numTotalResults"]), json_values),
        "response": st.dictionaries(st.just("resultSets"), st.lists(st.dictionaries(keys, json_values), max_size=3)),
    }
)


@settings(max_examples=300, deadline=None)
@given(document=json_values | beacon_like)
def test_answers__any_json_is_an_answer_or_invalid_never_a_crash(document: Any) -> None:
    try:
        answer = read_answer("dk", document, elapsed_ms=1)
    except InvalidAnswer:
        return
    assert answer.ok and isinstance(answer.exists, bool)
    assert answer.count is None or answer.count >= 0


def test_answers__a_well_formed_count_answer_is_read() -> None:
    answer = read_answer("dk", beacon_count_answer("dk.b", 7), elapsed_ms=3, beacon_id="dk.b")
    assert (answer.status, answer.count, answer.exists, answer.granularity.value) == ("ok", 7, True, "count")
    assert answer.result_sets[0]["id"] == "cohort"
    with pytest.raises(InvalidAnswer, match=r"the peers file names 'dk\.other'"):
        read_answer("dk", beacon_count_answer("dk.b", 7), elapsed_ms=3, beacon_id="dk.other")


@pytest.mark.parametrize(
    "params",
    [
        {"geneId": ["CYP2C19"], "requestedGranularity": ["count"]},
        {"referenceName": ["chr10"], "start": ["94781858"], "alternateBases": ["A"], "referenceBases": ["G"]},
        {"referenceName": ["chr22"], "start": ["100,200"], "end": ["300,400"], "includeResultsetResponses": ["ALL"]},
        {"referenceName": ["chr1"], "start": ["10"], "end": ["2000"], "variantType": ["DEL"], "skip": ["1"]},
        {"filters": ["HP:0001250,NCIT:C16576"], "limit": ["5"], "testMode": ["true"]},
    ],
)
def test_answers__a_forwarded_request_reads_back_as_the_request_asked(params: dict[str, list[str]]) -> None:
    asked = from_query("g_variants", params)
    forwarded = from_body("g_variants", request_body(asked))
    assert forwarded == asked


def test_answers__merged_answer_validates_and_names_every_node() -> None:
    identity = BeaconIdentity("se.b", "se", "http://127.0.0.1:8100", "se", "se")
    request = from_query("g_variants", {"geneId": ["CYP2C19"], "requestedGranularity": ["count"]})
    answers = [
        read_answer("se", beacon_count_answer("se.b", 2), elapsed_ms=5),
        read_answer("dk", beacon_count_answer("dk.b", 0), elapsed_ms=9),
        failed("uk", "uk.b", "timeout", "no answer within 5.0 s", elapsed_ms=5000),
    ]
    document = merge(identity, request, answers)
    assert_valid_response(document, "count")
    assert document["responseSummary"] == {"exists": True, "numTotalResults": 2, "countPrecision": "exact"}
    assert [s["id"] for s in document["response"]["resultSets"]] == ["se.b:cohort", "dk.b:cohort"]
    assert document["info"]["federation"]["nodes"][2] == {
        "name": "uk",
        "beaconId": "uk.b",
        "status": "timeout",
        "elapsedMs": 5000,
        "error": "no answer within 5.0 s",
    }
