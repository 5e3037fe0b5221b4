"""A Beacon v2 request, read from a GET query string or a POST body, in one typed shape.

Clients send the same question in several forms, and a beacon that wants to be asked accepts them
all (the spec's nested `requestParameters: {"g_variant": {...}}`, the flat form EGA's reference
implementations document, GET parameters with `start=100,200` or repeated keys). Everything is
checked here, before any data is read, and a bad request names the parameter, what was wrong and
what is accepted (BeaconRequestError → 400), never a 500.

Coordinates stay as the spec gives them (0-based `start`, exclusive `end`); beacon.variants turns
them into the store's 1-based positions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from genomenode.domain.protein_change import parse_protein_change
from genomenode.errors import BeaconRequestError, InvalidVariantError

API_VERSION = "v2.1.1"  # the spec release whose schemas the responses follow (docs/decisions/0004)
MAX_LIMIT = 1000  # records per page; `limit=0` asks for "the maximum the beacon allows", this


class Granularity(StrEnum):
    """Ordered: boolean < count < record."""

    BOOLEAN = "boolean"
    COUNT = "count"
    RECORD = "record"

    @property
    def rank(self) -> int:
        return ("boolean", "count", "record").index(self.value)

    def at_most(self, other: Granularity) -> Granularity:
        return self if self.rank <= other.rank else other


class IncludeResultsets(StrEnum):
    ALL = "ALL"
    HIT = "HIT"
    MISS = "MISS"
    NONE = "NONE"


_BASES = re.compile(r"^[ACGTUNRYSWKMBDHV.\-]*$")
_VARIANT_KEYS = {
    "referenceName",
    "assemblyId",
    "start",
    "end",
    "referenceBases",
    "alternateBases",
    "variantType",
    "variantMinLength",
    "variantMaxLength",
    "geneId",
    "aminoacidChange",
    "genomicAlleleShortForm",
    "mateName",
}


@dataclass(frozen=True)
class VariantQuery:
    """The g_variant request parameters, checked for type; which kind of query they make is `kind`."""

    reference_name: str | None = None
    assembly: str | None = None
    start: tuple[int, ...] = ()
    end: tuple[int, ...] = ()
    reference_bases: str | None = None
    alternate_bases: str | None = None
    variant_type: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    gene_id: str | None = None
    amino_acid_change: str | None = None
    allele_short_form: str | None = None

    @property
    def empty(self) -> bool:
        return self == VariantQuery()

    @property
    def kind(self) -> str:
        """sequence, range, bracket, gene, aminoacid, hgvs, or none (no variant parameters)."""
        if self.empty:
            return "none"
        if self.allele_short_form is not None:
            return "hgvs"
        if self.amino_acid_change is not None:
            return "aminoacid"
        if self.gene_id is not None and self.reference_name is None:
            return "gene"
        if len(self.start) == 2 or len(self.end) == 2:
            return "bracket"
        if self.end:
            return "range"
        return "sequence"


@dataclass(frozen=True)
class BeaconRequest:
    entry_type: str
    granularity: Granularity = Granularity.BOOLEAN
    include: IncludeResultsets = IncludeResultsets.HIT
    skip: int = 0
    limit: int = 10
    filters: tuple[Any, ...] = ()  # as sent: strings or objects; beacon.filters parses them
    variant: VariantQuery = field(default_factory=VariantQuery)
    test_mode: bool = False
    api_version: str = API_VERSION
    requested_schemas: tuple[dict[str, str], ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)  # what was asked, for the response's summary

    @property
    def page_limit(self) -> int:
        return MAX_LIMIT if self.limit == 0 else min(self.limit, MAX_LIMIT)

    @property
    def offset(self) -> int:
        """`skip` counts pages, as the spec says (Skip: "number of pages to skip")."""
        return self.skip * self.page_limit


# -- GET --------------------------------------------------------------------------------------
def from_query(entry_type: str, params: Mapping[str, Sequence[str]]) -> BeaconRequest:
    """A request from a GET query string (each key → every value given for it)."""
    known = _VARIANT_KEYS | {
        "requestedGranularity",
        "granularity",
        "includeResultsetResponses",
        "skip",
        "limit",
        "filters",
        "testMode",
        "apiVersion",
        "requestedSchema",
    }
    unknown = sorted(set(params) - known)
    if unknown:
        raise BeaconRequestError(
            f"unknown query parameter(s) {', '.join(unknown)}; this beacon reads {', '.join(sorted(known))}"
        )
    one = {k: _single(k, v) for k, v in params.items() if k not in ("filters", "start", "end")}
    variant_params: dict[str, Any] = {k: v for k, v in one.items() if k in _VARIANT_KEYS}
    for key in ("start", "end"):
        if key in params:
            variant_params[key] = [p for v in params[key] for p in v.split(",") if p.strip() != ""]
    filters = [f.strip() for v in params.get("filters", ()) for f in v.split(",") if f.strip()]
    return _build(
        entry_type,
        granularity=one.get("requestedGranularity", one.get("granularity")),
        include=one.get("includeResultsetResponses"),
        skip=one.get("skip"),
        limit=one.get("limit"),
        filters=filters,
        variant=variant_params,
        test_mode=one.get("testMode"),
        api_version=one.get("apiVersion"),
        requested_schemas=[{"entityType": entry_type, "schema": one["requestedSchema"]}]
        if "requestedSchema" in one
        else [],
    )


def _single(key: str, values: Sequence[str]) -> str:
    if len(values) != 1:
        raise BeaconRequestError(f"query parameter {key} given {len(values)} times; give it once")
    return values[0]


# -- POST -------------------------------------------------------------------------------------
def from_body(entry_type: str, body: Any) -> BeaconRequest:
    """A request from a POST body: `{"meta": {...}, "query": {...}}` (meta may be left out)."""
    if body is None:
        return _build(entry_type)
    if not isinstance(body, dict):
        raise BeaconRequestError('the request body must be a JSON object: {"meta": {...}, "query": {...}}')
    unknown = sorted(set(body) - {"meta", "query", "$schema"})
    if unknown:
        raise BeaconRequestError(f"unknown field(s) {', '.join(unknown)} in the request body; use meta and query")
    meta = _object(body.get("meta"), "meta")
    query = _object(body.get("query"), "query")
    pagination = _object(query.get("pagination"), "query.pagination")
    parameters = query.get("requestParameters")
    return _build(
        entry_type,
        granularity=query.get("requestedGranularity"),
        include=query.get("includeResultsetResponses"),
        skip=pagination.get("skip"),
        limit=pagination.get("limit"),
        filters=_list(query.get("filters"), "query.filters"),
        variant=_variant_parameters(parameters),
        test_mode=query.get("testMode"),
        api_version=meta.get("apiVersion"),
        requested_schemas=_list(meta.get("requestedSchemas"), "meta.requestedSchemas"),
    )


def _variant_parameters(parameters: Any) -> dict[str, Any]:
    """The nested `{"g_variant": {...}}` form, or the flat form, or an empty/absent object."""
    if parameters is None:
        return {}
    if isinstance(parameters, list):  # a few clients wrap the object in a list
        if len(parameters) != 1:
            raise BeaconRequestError("query.requestParameters: give one object, not a list")
        parameters = parameters[0]
    if not isinstance(parameters, dict):
        raise BeaconRequestError('query.requestParameters must be an object: {"g_variant": {...}} or the flat form')
    if "g_variant" in parameters:
        rest = set(parameters) - {"g_variant"}
        if rest:
            raise BeaconRequestError(
                f"query.requestParameters mixes the nested g_variant object with {', '.join(sorted(rest))}; "
                "put every variant parameter inside g_variant"
            )
        return _object(parameters["g_variant"], "query.requestParameters.g_variant")
    return parameters


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BeaconRequestError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BeaconRequestError(f"{where} must be a JSON array, not {type(value).__name__}")
    return value


# -- shared -----------------------------------------------------------------------------------
def _build(
    entry_type: str,
    *,
    granularity: Any = None,
    include: Any = None,
    skip: Any = None,
    limit: Any = None,
    filters: Sequence[Any] = (),
    variant: Mapping[str, Any] | None = None,
    test_mode: Any = None,
    api_version: Any = None,
    requested_schemas: Sequence[Any] = (),
) -> BeaconRequest:
    variant = dict(variant or {})
    query = _variant_query(variant)
    parameters: dict[str, Any] = {}
    if not query.empty:
        parameters["g_variant"] = _summary(query)
    schemas = []
    for s in requested_schemas:
        if not isinstance(s, dict) or not isinstance(s.get("schema", ""), str):
            raise BeaconRequestError('meta.requestedSchemas: give objects {"entityType": ..., "schema": ...}')
        schemas.append({k: str(v) for k, v in s.items() if k in ("entityType", "schema")})
    return BeaconRequest(
        entry_type=entry_type,
        granularity=_enum(Granularity, granularity, "requestedGranularity", Granularity.BOOLEAN),
        include=_enum(IncludeResultsets, include, "includeResultsetResponses", IncludeResultsets.HIT),
        skip=_integer(skip, "skip", minimum=0, default=0) or 0,
        limit=_integer(limit, "limit", minimum=0, default=10) or 0,
        filters=tuple(filters),
        variant=query,
        test_mode=_boolean(test_mode, "testMode"),
        api_version=str(api_version) if api_version else API_VERSION,
        requested_schemas=tuple(schemas),
        parameters=parameters,
    )


def _summary(q: VariantQuery) -> dict[str, Any]:
    """The variant parameters as read (typed), for the response's receivedRequestSummary."""
    pairs = {
        "referenceName": q.reference_name,
        "assemblyId": q.assembly,
        "start": list(q.start) or None,
        "end": list(q.end) or None,
        "referenceBases": q.reference_bases,
        "alternateBases": q.alternate_bases,
        "variantType": q.variant_type,
        "variantMinLength": q.min_length,
        "variantMaxLength": q.max_length,
        "geneId": q.gene_id,
        "aminoacidChange": q.amino_acid_change,
        "genomicAlleleShortForm": q.allele_short_form,
    }
    return {k: v for k, v in pairs.items() if v is not None}


def _variant_query(p: dict[str, Any]) -> VariantQuery:
    unknown = sorted(set(p) - _VARIANT_KEYS)
    if unknown:
        raise BeaconRequestError(
            f"unknown g_variant parameter(s) {', '.join(unknown)}; accepted: {', '.join(sorted(_VARIANT_KEYS))}"
        )
    start = _coordinates(p.get("start"), "start", minimum=0)
    end = _coordinates(p.get("end"), "end", minimum=1)
    query = VariantQuery(
        reference_name=_text(p.get("referenceName"), "referenceName"),
        assembly=_text(p.get("assemblyId"), "assemblyId"),
        start=start,
        end=end,
        reference_bases=_bases(p.get("referenceBases"), "referenceBases"),
        alternate_bases=_bases(p.get("alternateBases"), "alternateBases"),
        variant_type=_text(p.get("variantType"), "variantType"),
        min_length=_integer(p.get("variantMinLength"), "variantMinLength", minimum=0, default=None),
        max_length=_integer(p.get("variantMaxLength"), "variantMaxLength", minimum=1, default=None),
        gene_id=_text(p.get("geneId"), "geneId"),
        amino_acid_change=_text(p.get("aminoacidChange"), "aminoacidChange"),
        allele_short_form=_text(p.get("genomicAlleleShortForm"), "genomicAlleleShortForm"),
    )
    _check_shape(query)
    return query


def _check_shape(q: VariantQuery) -> None:
    """The combinations the spec defines; anything else is named, with the forms that work."""
    if q.kind == "aminoacid":
        _check_aminoacid(q)
        return
    if q.empty or q.kind in ("gene", "hgvs"):
        return
    forms = (
        "sequence: referenceName, start, alternateBases (referenceBases optional); "
        "range: referenceName, start, end; bracket: referenceName, start=[min,max], end=[min,max]; "
        "or geneId"
    )
    if q.reference_name is None or not q.start:
        raise BeaconRequestError(f"a variant query needs referenceName and start ({forms})")
    if q.kind == "bracket" and not (len(q.start) == 2 and len(q.end) == 2):
        raise BeaconRequestError(f"a bracket query gives start and end two values each ({forms})")
    if q.kind == "bracket" and (q.start[0] > q.start[1] or q.end[0] > q.end[1]):
        raise BeaconRequestError("a bracket query's start and end are [min, max] with min ≤ max")
    if q.kind == "range" and q.end[0] <= q.start[0]:
        raise BeaconRequestError(f"end ({q.end[0]}) must be greater than start ({q.start[0]}): end is exclusive")
    if q.kind == "sequence" and q.alternate_bases is None and q.variant_type is None:
        raise BeaconRequestError(f"a sequence query needs alternateBases (or variantType) ({forms})")
    if q.min_length is not None and q.max_length is not None and q.min_length > q.max_length:
        raise BeaconRequestError("variantMinLength is greater than variantMaxLength")


def _check_aminoacid(q: VariantQuery) -> None:
    """aminoacidChange names a change in the protein of `geneId` (docs.genomebeacons.org: with geneId)."""
    value = q.amino_acid_change
    assert value is not None
    if q.gene_id is None:
        raise BeaconRequestError(
            f"aminoacidChange {value!r} needs geneId, the gene whose protein it changes "
            "(geneId=BRAF&aminoacidChange=V600E)"
        )
    if q.reference_name is not None or q.start or q.end:
        raise BeaconRequestError(
            "aminoacidChange goes with geneId, not with referenceName/start/end; "
            "ask by geneId and aminoacidChange, or by coordinates"
        )
    try:
        parse_protein_change(value)
    except InvalidVariantError as e:
        raise BeaconRequestError(f"aminoacidChange: {e}") from None


def _coordinates(value: Any, name: str, *, minimum: int) -> tuple[int, ...]:
    if value is None:
        return ()
    values = value if isinstance(value, list) else [value]
    if not 1 <= len(values) <= 2:
        raise BeaconRequestError(f"{name}: give one position or two (a bracket), not {len(values)}")
    return tuple(_integer(v, name, minimum=minimum, default=None) or 0 for v in values)


def _integer(value: Any, name: str, *, minimum: int, default: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool):
        raise BeaconRequestError(f"{name}: expected an integer, got {value!r}")
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        raise BeaconRequestError(f"{name}: expected an integer, got {value!r}")
    if number < minimum:
        raise BeaconRequestError(f"{name}: must be ≥ {minimum}, got {number}")
    return number


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BeaconRequestError(f"{name}: expected a string, got {value!r}")
    text = str(value).strip()
    if not text:
        raise BeaconRequestError(f"{name}: empty")
    return text


def _bases(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BeaconRequestError(f"{name}: expected a string of bases, got {value!r}")
    bases = value.strip().upper()
    if not _BASES.match(bases):
        raise BeaconRequestError(f"{name}: {value!r} is not a sequence of IUPAC bases (A, C, G, T, N, ...)")
    return bases.replace(".", "").replace("-", "")


def _enum(kind: Any, value: Any, name: str, default: Any) -> Any:
    if value is None:
        return default
    try:
        return kind(value if kind is Granularity else str(value).upper())
    except ValueError:
        accepted = ", ".join(m.value for m in kind)
        raise BeaconRequestError(f"{name}: {value!r} is not one of {accepted}") from None


def _boolean(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BeaconRequestError(f"{name}: expected true or false, got {value!r}")
