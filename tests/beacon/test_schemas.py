"""Sanity tests of the offline Beacon v2 schema validator in tests/beacon/schemas.py."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from referencing.exceptions import NoSuchResource, Unresolvable

from tests.beacon import schemas
from tests.beacon.schemas import ENTRY_SCHEMAS, RESPONSE_SCHEMAS, assert_valid, assert_valid_response

MODEL = "models/json/beacon-v2-default-model/"

# The upstream bugs the registry works around: (referring file, $ref). See the reference README.
UPSTREAM_BROKEN_REFS = {
    *(
        (f"{MODEL}{entry}/defaultSchema.json", "../common/info.json")
        for entry in ("analyses", "biosamples", "datasets", "individuals", "runs")
    ),
    *(
        (
            f"{MODEL}{entry}/endpoints.json",
            schemas.BASE + "framework/json/common/beaconCommonComponents.json#/definitions/IncludeResultsetResponses",
        )
        for entry in ("analyses", "biosamples", "genomicVariations", "individuals", "runs")
    ),
}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _unresolvable_refs(registry: Any) -> tuple[int, set[tuple[str, str]]]:
    total, broken = 0, set()
    for relative_path in schemas.schema_files():
        if schemas.is_example(relative_path):
            continue
        base = schemas.VRS_URI if relative_path == schemas.VRS_FILE else schemas.BASE + relative_path
        resolver = registry.resolver(base_uri=base)
        for ref in _refs(schemas.load(relative_path)):
            total += 1
            try:
                resolver.lookup(ref)
            except Unresolvable:
                broken.add((relative_path, ref))
    return total, broken


# ---------------------------------------------------------------- minimal documents, built from the schemas


def _request_summary(granularity: str) -> dict[str, Any]:
    return {"apiVersion": "v2.0.0", "requestedSchemas": [], "pagination": {}, "requestedGranularity": granularity}


def _meta(granularity: str) -> dict[str, Any]:
    return {
        "beaconId": "org.example.genomenode",
        "apiVersion": "v2.0.0",
        "returnedSchemas": [],
        "returnedGranularity": granularity,
        "receivedRequestSummary": _request_summary(granularity),
    }


INFORMATIONAL_META: dict[str, Any] = {
    "beaconId": "org.example.genomenode",
    "apiVersion": "v2.0.0",
    "returnedSchemas": [],
}

DATASET_ENTRY_TYPE: dict[str, Any] = {
    "id": "dataset",
    "name": "Dataset",
    "partOfSpecification": "Beacon v2.0.0",
    "defaultSchema": {
        "id": "ga4gh-beacon-dataset-v2.0.0",
        "name": "Default schema for datasets",
        "referenceToSchemaDefinition": "./datasets/defaultSchema.json",
    },
}

# A legacy (non-VRS-Allele) variation as in genomicVariant-MIN-example.json; VRS intervals are 0-based.
VARIANT: dict[str, Any] = {
    "variantInternalId": "GRCh38-22-16050075-A-G",
    "variation": {
        "variantType": "SNP",
        "referenceBases": "A",
        "alternateBases": "G",
        "location": {
            "type": "SequenceLocation",
            "sequence_id": "refseq:NC_000022.11",
            "interval": {
                "type": "SequenceInterval",
                "start": {"type": "Number", "value": 16050074},
                "end": {"type": "Number", "value": 16050075},
            },
        },
    },
}

DATASET: dict[str, Any] = {"id": "ds1", "name": "Dataset one"}

MINIMAL_RESPONSES: dict[str, dict[str, Any]] = {
    "boolean": {"meta": _meta("boolean"), "responseSummary": {"exists": True}},
    "count": {"meta": _meta("count"), "responseSummary": {"exists": True, "numTotalResults": 3}},
    "record": {
        "meta": _meta("record"),
        "responseSummary": {"exists": True, "numTotalResults": 1},
        "response": {
            "resultSets": [{"id": "ds1", "setType": "dataset", "exists": True, "resultsCount": 1, "results": [VARIANT]}]
        },
    },
    "collections": {
        "meta": _meta("record"),
        "responseSummary": {"exists": True, "numTotalResults": 1},
        "response": {"collections": [DATASET]},
    },
    "error": {"meta": _meta("boolean"), "error": {"errorCode": 400, "errorMessage": "bad request"}},
    "info": {
        "meta": INFORMATIONAL_META,
        "response": {
            "id": "org.example.genomenode",
            "name": "genomenode",
            "apiVersion": "v2.0.0",
            "environment": "test",
            "organization": {"id": "org.example", "name": "Example"},
        },
    },
    "service-info": {
        "id": "org.example.genomenode",
        "name": "genomenode",
        "type": {"group": "org.ga4gh", "artifact": "beacon", "version": "v2.0.0"},
        "organization": {"name": "Example", "url": "https://example.org"},
        "version": "0.1.0",
    },
    "configuration": {
        "meta": INFORMATIONAL_META,
        "response": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "maturityAttributes": {"productionStatus": "DEV"},
            "entryTypes": {"dataset": DATASET_ENTRY_TYPE},
        },
    },
    "entry_types": {"meta": INFORMATIONAL_META, "response": {"entryTypes": {"dataset": DATASET_ENTRY_TYPE}}},
    "map": {
        "meta": INFORMATIONAL_META,
        "response": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "endpointSets": {"dataset": {"entryType": "dataset", "rootUrl": "https://example.org/api/datasets"}},
        },
    },
    "filtering_terms": {"meta": INFORMATIONAL_META, "response": {}},
}


# ---------------------------------------------------------------- registry and $refs


def test_schemas__every_ref_in_non_example_files_resolves_offline() -> None:
    total, broken = _unresolvable_refs(schemas.registry())
    assert total == 611 + 96, "611 Beacon refs (reference README) plus 96 inside VRS 1.3"
    assert broken == set()


def test_schemas__without_workarounds_only_the_documented_upstream_refs_are_broken() -> None:
    _, broken = _unresolvable_refs(schemas.build_registry(workarounds=False))
    assert broken == UPSTREAM_BROKEN_REFS


def test_schemas__unknown_uri_raises_instead_of_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object) -> None:
        raise AssertionError("the schema validator tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(NoSuchResource):
        schemas.registry().get_or_retrieve("https://example.org/not-registered.json")
    probe = jsonschema.Draft202012Validator(
        {"$ref": "https://example.org/not-registered.json"}, registry=schemas.registry()
    )
    with pytest.raises(Unresolvable):
        probe.validate({})


def test_schemas__reference_folder_missing_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(schemas, "REFERENCE", tmp_path / "absent")
    with pytest.raises(pytest.skip.Exception, match="reference schemas not found"):
        schemas.require_reference()


@pytest.mark.parametrize("schema_path", sorted({*RESPONSE_SCHEMAS.values(), *ENTRY_SCHEMAS.values()}))
def test_schemas__named_schema_exists_and_is_a_valid_2020_12_schema(schema_path: str) -> None:
    assert (schemas.require_reference() / schema_path).is_file()
    assert schemas.validator(schema_path).schema["$id"] == schemas.BASE + schema_path


def test_schemas__unknown_schema_path_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        schemas.validator("framework/json/responses/noSuchResponse.json")


# ---------------------------------------------------------------- envelopes


@pytest.mark.parametrize("kind", sorted(MINIMAL_RESPONSES))
def test_schemas__minimal_hand_built_response_is_valid(kind: str) -> None:
    entry = {"record": "g_variants", "collections": "dataset"}.get(kind)
    assert_valid_response(MINIMAL_RESPONSES[kind], kind, entry)


@pytest.mark.parametrize(
    ("path", "field", "where"),
    [
        ((), "meta", "at $:"),
        (("meta",), "returnedGranularity", "at $.meta:"),
        (("meta",), "returnedSchemas", "at $.meta:"),
        (("meta", "receivedRequestSummary"), "requestedGranularity", "at $.meta.receivedRequestSummary:"),
        (("meta", "receivedRequestSummary"), "pagination", "at $.meta.receivedRequestSummary:"),
        (("responseSummary",), "numTotalResults", "at $.responseSummary:"),
    ],
)
def test_schemas__count_response_missing_required_field_fails_naming_it(
    path: tuple[str, ...], field: str, where: str
) -> None:
    document = copy.deepcopy(MINIMAL_RESPONSES["count"])
    parent = document
    for key in path:
        parent = parent[key]
    del parent[field]
    with pytest.raises(AssertionError) as failure:
        assert_valid(document, RESPONSE_SCHEMAS["count"])
    assert f"{where} '{field}' is a required property" in str(failure.value)


def test_schemas__errors_are_all_listed_with_the_shallowest_first() -> None:
    document = copy.deepcopy(MINIMAL_RESPONSES["count"])
    document["meta"]["receivedRequestSummary"]["pagination"]["limit"] = -1
    document["meta"]["returnedGranularity"] = "everything"
    del document["responseSummary"]
    with pytest.raises(AssertionError) as failure:
        assert_valid_response(document, "count")
    assert str(failure.value).splitlines() == [
        "3 Beacon schema error(s) against framework/json/responses/beaconCountResponse.json:",
        "  1. at $: 'responseSummary' is a required property  [schema: required]",
        "  2. at $.meta.returnedGranularity: 'everything' is not one of ['boolean', 'count', 'record']"
        "  [schema: properties/meta/properties/returnedGranularity/enum]",
        "  3. at $.meta.receivedRequestSummary.pagination.limit: -1 is less than the minimum of 0"
        "  [schema: properties/meta/properties/receivedRequestSummary/properties/pagination/properties/limit/minimum]",
    ]


def test_schemas__count_example_from_upstream_is_stale_about_granularity() -> None:
    example = schemas.load("framework/json/responses/examples-fullDocuments/beaconCountResponse-example.json")
    with pytest.raises(AssertionError, match="'returnedGranularity' is a required property"):
        assert_valid_response(example, "count")


@pytest.mark.parametrize(
    ("example", "schema_path"),
    [
        (
            "framework/json/responses/examples-fullDocuments/beaconFilteringTermsResponse-example.json",
            "filtering_terms",
        ),
        ("framework/json/responses/examples-fullDocuments/beaconConfigurationResponse-example.json", "configuration"),
        ("framework/json/responses/examples-fullDocuments/beaconEntryTypesResponse-example.json", "entry_types"),
        ("framework/json/responses/examples-fullDocuments/beaconMapResponse-example.json", "map"),
        ("framework/json/responses/examples-fullDocuments/beaconInfo-MAX-example.json", "info"),
        ("framework/json/responses/examples-sections/beaconResultsets-MIN-example.json", None),
        (f"{MODEL}genomicVariations/examples/genomicVariant-MIN-example.json", "g_variants"),
        (f"{MODEL}genomicVariations/examples/genomicVariant-MIN-VRS-example.json", "g_variants"),
        (f"{MODEL}individuals/examples/individual-MIN-example.json", "individual"),
        (f"{MODEL}biosamples/examples/biosample-MID-example.json", "biosample"),
        (f"{MODEL}runs/examples/runs-MAX-example.json", "run"),
        (f"{MODEL}analyses/examples/analyses-MAX-example.json", "analysis"),
        (f"{MODEL}datasets/examples/dataset-Max-example.json", "dataset"),
        (f"{MODEL}cohorts/examples/cohorts-MAX-example.json", "cohort"),
    ],
)
def test_schemas__upstream_example_that_the_readme_lists_as_valid_validates(
    example: str, schema_path: str | None
) -> None:
    if schema_path is None:
        schema = "framework/json/responses/sections/beaconResultsets.json"
    else:
        schema = RESPONSE_SCHEMAS.get(schema_path) or ENTRY_SCHEMAS[schema_path]
    assert_valid(schemas.load(example), schema)


# ---------------------------------------------------------------- records


def test_schemas__genomic_variation_with_a_wrong_type_fails() -> None:
    record = copy.deepcopy(VARIANT)
    record["variantInternalId"] = 16050075
    with pytest.raises(AssertionError, match=r"at \$\.variantInternalId: 16050075 is not of type 'string'"):
        assert_valid(record, ENTRY_SCHEMAS["genomicVariation"])


def test_schemas__genomic_variation_oneof_failure_names_the_offending_field() -> None:
    record = copy.deepcopy(VARIANT)
    record["variation"]["location"]["interval"]["start"]["value"] = "16050074"
    with pytest.raises(AssertionError) as failure:
        assert_valid(record, ENTRY_SCHEMAS["g_variants"])
    message = str(failure.value)
    assert "at $.variation: matches none of the oneOf alternatives" in message
    assert "at $.variation.location.interval.start.value: '16050074' is not of type 'integer'" in message


def test_schemas__date_format_is_checked() -> None:
    run = {"id": "run1", "biosampleId": "bs1", "runDate": "yesterday"}
    with pytest.raises(AssertionError, match="'yesterday' is not a 'date'"):
        assert_valid(run, ENTRY_SCHEMAS["run"])
    assert_valid({**run, "runDate": "2024-12-13"}, ENTRY_SCHEMAS["run"])


def test_schemas__record_envelope_alone_accepts_any_object_as_a_result() -> None:
    document = copy.deepcopy(MINIMAL_RESPONSES["record"])
    document["response"]["resultSets"][0]["results"] = [{"variantInternalId": 7}]
    assert_valid_response(document, "record")  # the envelope schema only says `{"type": "object"}`
    with pytest.raises(AssertionError) as failure:
        assert_valid_response(document, "record", "g_variants")
    message = str(failure.value)
    assert "at $.response.resultSets[0].results[0]: 'variation' is a required property" in message
    assert "at $.response.resultSets[0].results[0].variantInternalId: 7 is not of type 'string'" in message


def test_schemas__collections_are_checked_against_the_entry_schema_with_envelope_errors() -> None:
    document = copy.deepcopy(MINIMAL_RESPONSES["collections"])
    document["response"]["collections"].append({"id": "ds2"})
    del document["meta"]["beaconId"]
    with pytest.raises(AssertionError) as failure:
        assert_valid_response(document, "collections", "dataset")
    message = str(failure.value)
    assert "at $.meta: 'beaconId' is a required property" in message
    assert "at $.response.collections[1]: 'name' is a required property" in message
    assert "collections[0]" not in message


def test_schemas__assert_valid_response_rejects_unknown_kind_and_misplaced_entry_schema() -> None:
    with pytest.raises(ValueError, match="unknown response kind"):
        assert_valid_response({}, "counts")
    with pytest.raises(ValueError, match="entry_schema applies to"):
        assert_valid_response(MINIMAL_RESPONSES["count"], "count", "g_variants")
