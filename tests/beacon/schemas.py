"""Offline validation of GA4GH Beacon v2 documents against the official JSON schemas.

The schemas are the reference copy of Beacon v2.1.1 in ``<repo parent>/shared/reference/beacon-v2``
(see its README.md). Nothing is fetched from the network: every ``*.json`` file there is registered
in a :class:`referencing.Registry` under ``BASE + <relative path>`` (Draft 2020-12), which is the URI
the upstream absolute ``$ref``s use, so relative and absolute refs land on the same entries. The VRS
1.3 schema (draft-07) is registered under ``https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json``. The
registry has no ``retrieve`` callable, so an unknown URI raises
:class:`referencing.exceptions.Unresolvable` instead of being downloaded.

Upstream bugs worked around in the registry (``build_registry(workarounds=False)`` shows them):

1. ``models/json/beacon-v2-default-model/{analyses,biosamples,datasets,individuals,runs}/defaultSchema.json``
   refer to ``../common/info.json``, which does not exist upstream; the URI is aliased to
   ``framework/json/common/info.json`` (a plain ``{"type": "object"}``).
2. The model ``endpoints.json`` files (OpenAPI only, never used to validate a document) refer to
   ``beaconCommonComponents.json#/definitions/IncludeResultsetResponses``; the registered copy of
   ``beaconCommonComponents.json`` gets a ``definitions`` key that mirrors ``$defs``.

How the response envelopes constrain records (checked in this copy of the schemas):

- ``beaconResultsetsResponse.json`` (record granularity) → ``sections/beaconResultsets.json``:
  ``response.resultSets[*]`` must have ``id``, ``setType`` (any string), ``exists``,
  ``resultsCount`` and ``results``, but ``results`` items are only ``{"type": "object"}``. They do
  **not** ``$ref`` the entry-type default schemas (nor anything named by ``meta.returnedSchemas``).
- ``beaconCollectionsResponse.json``: ``response.collections`` items are only
  ``{"type": "object"}`` as well.

So envelope validation alone accepts any object as a record. :func:`assert_valid_response` with
``entry_schema`` also validates every record against the entry type's ``defaultSchema.json``.

Other points a response builder needs (all enforced by the schemas, none of them in the README):

- ``meta`` of boolean/count/record/collections/error responses (``sections/beaconResponseMeta.json``)
  requires ``beaconId``, ``apiVersion``, ``returnedSchemas`` (array, may be empty),
  ``returnedGranularity`` (``boolean``/``count``/``record``) and ``receivedRequestSummary``, which
  requires ``apiVersion``, ``requestedSchemas`` (array, may be empty), ``pagination`` (object, may be
  empty) and ``requestedGranularity``. ``receivedRequestSummary.requestParameters`` must be an object
  whose values are all objects (the nested ``{"g_variant": {...}}`` form).
- Informational responses (info, configuration, entry_types, map, filtering_terms) use
  ``sections/beaconInformationalResponseMeta.json``: ``beaconId``, ``apiVersion``, ``returnedSchemas``.
- The default model's entry type id for variants is ``genomicVariant`` (its endpoint is ``g_variants``,
  its folder ``genomicVariations``).
- A genomic variation record needs ``variantInternalId`` (string) and ``variation``, which is ``oneOf`` VRS 1.3
  MolecularVariation, SystemicVariation or the Beacon ``LegacyVariation`` (``variantType``, ``alternateBases``,
  ``location`` = VRS 1.3 Location, e.g. ``SequenceLocation`` with ``sequence_id`` CURIE and a
  ``SequenceInterval`` of ``{"type": "Number", "value": int}``, 0-based interbase; VRS objects have
  ``additionalProperties: false``). ``referenceBases``/``alternateBases`` must match
  ``^[ACGTUNRYSWKMBDHV\\-\\.]*$``: symbolic alleles such as ``<DEL>`` or ``*`` and lowercase bases fail.
- ``configuration`` and ``map`` response bodies require a ``$schema`` key; ``filtering_terms`` requires
  nothing inside ``response``.

Format checking uses ``Draft202012Validator.FORMAT_CHECKER``, i.e. only the formats jsonschema checks
without optional packages (``date``, ``email``, ``ipv4``, ``ipv6``, ``regex``, ``uuid`` and, since
``idna`` is installed, ``idn-hostname``/``idn-email``). ``date-time`` and ``uri`` are *not* checked
(they would need ``rfc3339-validator``/``rfc3987``); the schemas also use non-standard ``datetime``,
``int32`` and ``int64``, which are ignored.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the lock
import pytest
from jsonschema.exceptions import (  # type: ignore[import-untyped]
    STRONG_MATCHES,
    WEAK_MATCHES,
    ValidationError,
)
from referencing import Resource
from referencing.jsonschema import DRAFT7, DRAFT202012, SchemaRegistry

REFERENCE: Path = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "beacon-v2"
BASE = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"

VRS_URI = "https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json"
VRS_FILE = "external/vrs-1.3.0/schema/vrs.json"

# Upstream bug 1: a URI some model schemas refer to, and the file it should have meant.
MISSING_FILE_ALIASES: dict[str, str] = {
    "models/json/beacon-v2-default-model/common/info.json": "framework/json/common/info.json",
}
# Upstream bug 2: refs use `#/definitions/...` in this 2020-12 file, which only has `$defs`.
DEFINITIONS_ALIAS_FILE = "framework/json/common/beaconCommonComponents.json"

_RESPONSES = "framework/json/responses/"
RESPONSE_SCHEMAS: dict[str, str] = {
    "boolean": _RESPONSES + "beaconBooleanResponse.json",
    "count": _RESPONSES + "beaconCountResponse.json",
    "record": _RESPONSES + "beaconResultsetsResponse.json",
    "collections": _RESPONSES + "beaconCollectionsResponse.json",
    "info": _RESPONSES + "beaconInfoResponse.json",
    "service-info": _RESPONSES + "ga4gh-service-info-1-0-0-schema.json",
    "configuration": _RESPONSES + "beaconConfigurationResponse.json",
    "entry_types": _RESPONSES + "beaconEntryTypesResponse.json",
    "map": _RESPONSES + "beaconMapResponse.json",
    "filtering_terms": _RESPONSES + "beaconFilteringTermsResponse.json",
    "error": _RESPONSES + "beaconErrorResponse.json",
}

_MODEL = "models/json/beacon-v2-default-model/"
# Keys: entry type ids of the default model's beaconConfiguration.json (`genomicVariant`, `individual`,
# ...), plus the spelling `genomicVariation` and the endpoint names (`g_variants`, `individuals`, ...).
ENTRY_SCHEMAS: dict[str, str] = {
    **dict.fromkeys(
        ("genomicVariant", "genomicVariation", "g_variants"), _MODEL + "genomicVariations/defaultSchema.json"
    ),
    **dict.fromkeys(("individual", "individuals"), _MODEL + "individuals/defaultSchema.json"),
    **dict.fromkeys(("biosample", "biosamples"), _MODEL + "biosamples/defaultSchema.json"),
    **dict.fromkeys(("run", "runs"), _MODEL + "runs/defaultSchema.json"),
    **dict.fromkeys(("analysis", "analyses"), _MODEL + "analyses/defaultSchema.json"),
    **dict.fromkeys(("dataset", "datasets"), _MODEL + "datasets/defaultSchema.json"),
    **dict.fromkeys(("cohort", "cohorts"), _MODEL + "cohorts/defaultSchema.json"),
}

# How many errors one AssertionError lists before summarising the rest.
MAX_LISTED_ERRORS = 100
_MAX_MESSAGE = 300
_MAX_ALTERNATIVES = 4


def require_reference() -> Path:
    """The beacon-v2 reference folder; skips the calling test when it is absent."""
    if not (REFERENCE / "framework" / "json").is_dir():
        pytest.skip(f"Beacon v2 reference schemas not found at {REFERENCE} (expected next to the repository)")
    return REFERENCE


def schema_files() -> list[str]:
    """Paths (relative to REFERENCE, POSIX style) of every ``*.json`` file in the reference copy."""
    root = require_reference()
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.json"))


def is_example(relative_path: str) -> bool:
    """True for the upstream example documents (anything under an ``examples*`` folder)."""
    return any(part.startswith("examples") for part in relative_path.split("/")[:-1])


def load(relative_path: str) -> Any:
    """The parsed JSON of a file in the reference copy."""
    with (require_reference() / relative_path).open(encoding="utf-8") as handle:
        return json.load(handle)


def build_registry(*, workarounds: bool = True) -> SchemaRegistry:
    """A fresh offline registry of every reference file; ``workarounds=False`` leaves the upstream bugs in."""
    resources: list[tuple[str, Resource[Any]]] = []
    for relative_path in schema_files():
        contents = load(relative_path)
        if relative_path == VRS_FILE:
            resource = DRAFT7.create_resource(contents)
            resources.append((VRS_URI, resource))
        else:
            if workarounds and relative_path == DEFINITIONS_ALIAS_FILE:
                contents = {**contents, "definitions": contents["$defs"]}
            resource = DRAFT202012.create_resource(contents)
        resources.append((BASE + relative_path, resource))
    registry: SchemaRegistry = SchemaRegistry().with_resources(resources)
    if workarounds:
        registry = registry.with_resources(
            (BASE + alias, registry[BASE + target]) for alias, target in MISSING_FILE_ALIASES.items()
        )
    return registry.crawl()


@functools.cache
def registry() -> SchemaRegistry:
    """The shared offline registry (with the upstream-bug workarounds)."""
    return build_registry()


@functools.cache
def validator(schema_path: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at ``schema_path`` (relative to REFERENCE), resolving refs offline."""
    if not (require_reference() / schema_path).is_file():
        raise FileNotFoundError(f"no schema {schema_path!r} under {REFERENCE}")
    uri = BASE + schema_path
    contents = registry().contents(uri)
    if not isinstance(contents, Mapping):
        raise TypeError(f"{schema_path} is not a JSON schema object")
    schema = {**contents, "$id": uri}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, registry=registry(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _priority(error: ValidationError) -> tuple[bool, int, bool]:
    # Best first: not a weak anyOf/oneOf summary, shallow (a missing top-level field explains more), strong.
    return (error.validator not in WEAK_MATCHES, -len(error.path), error.validator in STRONG_MATCHES)


def validation_errors(document: object, schema_path: str) -> list[ValidationError]:
    """Every error of ``document`` against the schema, most informative first."""
    return sorted(validator(schema_path).iter_errors(document), key=_priority, reverse=True)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if not error.context:
        yield error
    for sub in error.context:
        yield from _leaves(sub)


def _describe(error: ValidationError, prefix: str) -> str:
    where = prefix + error.json_path[1:]
    schema_at = "/".join(str(part) for part in error.schema_path)
    if not error.context:
        return f"at {where}: {_shorten(error.message)}  [schema: {schema_at}]"
    # anyOf/oneOf with no matching alternative: the message would repeat the whole instance. Show instead the
    # failures that got deepest into the document, which usually name the offending field.
    # Discriminator mismatches (`"type": const ...`) are the noise of the alternatives that were never meant.
    leaves = sorted(_leaves(error), key=lambda leaf: leaf.validator in ("const", "enum"))
    depth = max(len(leaf.absolute_path) for leaf in leaves)
    deepest = list(
        dict.fromkeys(
            f"at {prefix}{leaf.json_path[1:]}: {_shorten(leaf.message)}"
            for leaf in leaves
            if len(leaf.absolute_path) == depth
        )
    )
    lines = [f"at {where}: matches none of the {error.validator} alternatives  [schema: {schema_at}]"]
    lines += [f"       deepest failure: {text}" for text in deepest[:_MAX_ALTERNATIVES]]
    if len(deepest) > _MAX_ALTERNATIVES:
        lines.append(f"       (+{len(deepest) - _MAX_ALTERNATIVES} more failures at the same depth)")
    return "\n".join(lines)


def _report(problems: list[tuple[str, str, list[ValidationError]]]) -> str:
    # problems: (document location prefix such as "$" or "$.response.resultSets[0].results[2]", schema, errors)
    lines: list[str] = []
    total = sum(len(errors) for _, _, errors in problems)
    schemas = sorted({schema for _, schema, errors in problems if errors})
    lines.append(f"{total} Beacon schema error(s) against {', '.join(schemas)}:")
    listed = 0
    for prefix, _, errors in problems:
        for error in errors:
            if listed == MAX_LISTED_ERRORS:
                lines.append(f"  ... and {total - listed} more")
                return "\n".join(lines)
            listed += 1
            lines.append(f"  {listed}. {_describe(error, prefix)}")
    return "\n".join(lines)


def assert_valid(document: object, schema_path: str) -> None:
    """Raise AssertionError listing the schema errors of ``document`` when it is invalid.

    Errors are listed shallowest first (a missing top-level field before a bad nested value), each with its
    location in the document, the message and the path in the schema, up to MAX_LISTED_ERRORS of them.
    """
    errors = validation_errors(document, schema_path)
    if errors:
        raise AssertionError(_report([("$", schema_path, errors)]))


def _records(document: object, kind: str) -> Iterator[tuple[str, object]]:
    """(location, record) for each record the envelope carries; tolerant of malformed envelopes."""
    response = document.get("response") if isinstance(document, Mapping) else None
    if not isinstance(response, Mapping):
        return
    if kind == "record":
        result_sets = response.get("resultSets")
        if not isinstance(result_sets, list):
            return
        for i, result_set in enumerate(result_sets):
            results = result_set.get("results") if isinstance(result_set, Mapping) else None
            if isinstance(results, list):
                for j, record in enumerate(results):
                    yield f"$.response.resultSets[{i}].results[{j}]", record
    elif kind == "collections":
        collections = response.get("collections")
        if isinstance(collections, list):
            for i, record in enumerate(collections):
                yield f"$.response.collections[{i}]", record


def assert_valid_response(document: object, kind: str, entry_schema: str | None = None) -> None:
    """Validate a Beacon response envelope of ``kind`` (a RESPONSE_SCHEMAS key) and, optionally, its records.

    ``entry_schema`` is an ENTRY_SCHEMAS key (e.g. ``"g_variants"``, ``"dataset"``) or a schema path
    relative to REFERENCE. With it, each ``response.resultSets[*].results[*]`` (kind ``"record"``) or
    ``response.collections[*]`` (kind ``"collections"``) is validated against that schema too, because the
    envelope schemas accept any object there. All errors are reported together.
    """
    if kind not in RESPONSE_SCHEMAS:
        raise ValueError(f"unknown response kind {kind!r}; expected one of {sorted(RESPONSE_SCHEMAS)}")
    envelope_schema = RESPONSE_SCHEMAS[kind]
    problems = [("$", envelope_schema, validation_errors(document, envelope_schema))]
    if entry_schema is not None:
        if kind not in ("record", "collections"):
            raise ValueError(f"entry_schema applies to 'record' and 'collections' responses, not {kind!r}")
        record_schema = ENTRY_SCHEMAS.get(entry_schema, entry_schema)
        for location, record in _records(document, kind):
            problems.append((location, record_schema, validation_errors(record, record_schema)))
    if any(errors for _, _, errors in problems):
        raise AssertionError(_report(problems))
