"""Beacon v2 filters over individuals: the filter model, parsing GET and POST forms, and the engine.

Filters (Beacon v2 framework `requests/filteringTerms`, docs.genomebeacons.org/filters) are ANDed.
What this beacon can filter individuals on, all from the catalog's `SubjectAnnotation`s:

* `HP:0001250` (ontology; `=` default, `!`): a recorded feature is the term or, with
  `includeDescendantTerms` (default true), a term below it in HPO;
* `NCIT:C16576` / `NCIT:C20197` / `NCIT:C17998` (ontology; `=`, `!`): their sex is female / male /
  unknown, the terms of Beacon v2 `individuals.sex`;
* `OMIM:607208`, `ORPHA:33069`, `MONDO:0100135` (ontology; `=`, `!`): they have that diagnosis, the
  exact id (the node has no disease hierarchy);
* `age` or `PATO:0000011` (alphanumeric; `=` `<` `>` `!` `>=` `<=`): age at sample collection, the
  value in years (`40`, `40.5`) or ISO 8601 (`P40Y6M`);
* `sex` or `NCIT:C28421` (alphanumeric; `=`, `!`): value `female`, `male`, `unknown` or an NCIT id above;
* `population` (alphanumeric; `=`, `!`): a population label equals the value (case-insensitive, `%`
  a wildcard); the custom term `population:FIN` is `population` `=` `FIN`.

GET sends ids only, comma-separated (`filters=HP:0001250,NCIT:C16576`); alphanumeric filters go as
`field:` operator value (`age:>=P40Y`, `population:!FIN`, `PATO_0000011:<P18Y`), as the spec's
examples write them. POST sends a list of ids and objects `{"id", "operator", "value",
"includeDescendantTerms", "scope", "similarity"}` (a `type` or `label` key is ignored).

Decisions where the spec leaves room:
* A feature recorded as excluded (looked for and absent) means the person does not have it, nor any
  term below it: they never match the term, whatever else is recorded, and they do match `!`.
* `!` is the complement among the individuals given: someone with nothing recorded does not have
  the feature. An unknown age matches no age filter, `!` included; `=` and `!` on age compare
  completed years (`age:=P42Y` is anyone aged 42), the other operators the exact age.
* `similarity` other than `exact` is refused: the node has no semantic similarity model, and an
  answer that silently ignored the request would be wrong, not approximate.
* Every filterable fact lives on individuals, so a filter's `scope` must be left out or be
  `individuals` (a query on another entry type is narrowed to the matching individuals' records
  by the caller); any other scope is refused, naming this.
* No dataset filter: datasets are chosen with the request's `datasetIds`.
* An id the beacon cannot filter on (a term not in HPO, an unknown field) is refused, pointing to
  the filtering terms endpoint; a well-formed disease id that nobody has simply matches nobody.
* `filtering_terms` lists the terms present in the data and the fields, never how many have them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from genomenode.catalog.phenotypes import SubjectAnnotation
from genomenode.domain.phenotypes import is_disease_id, is_hpo_id, normalise_curie, parse_age_years
from genomenode.domain.samples import NCIT_SEX, SEX_NCIT, Sex
from genomenode.errors import BeaconRequestError, listing
from genomenode.store.hpo import Hpo

OPERATORS = ("=", "<", ">", "!", ">=", "<=")
SIMILARITIES = ("exact", "high", "medium", "low")
SCOPES = ("individuals",)
FILTERING_TERMS_PATH = "/api/filtering_terms"
# Alphanumeric fields by the ids a request may use for them (first: the canonical one).
FIELDS: dict[str, tuple[str, ...]] = {
    "age": ("age", "PATO:0000011"),
    "sex": ("sex", "NCIT:C28421"),
    "population": ("population",),
}
_FIELD_OF = {alias: name for name, aliases in FIELDS.items() for alias in aliases}
_OBJECT_KEYS = ("id", "operator", "value", "includeDescendantTerms", "scope", "similarity")
_IGNORED_KEYS = ("type", "label")
_SEX_LABELS = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.UNKNOWN: "unknown"}
ACCEPTED_FORMS = (
    "send filters as GET filters=HP:0001250,NCIT:C16576,age:>=P40Y (comma-separated ids, alphanumeric "
    'fields as field:operator value) or as a POST list of ids and objects {"id": "HP:0001250", '
    '"includeDescendantTerms": true} / {"id": "age", "operator": ">=", "value": "P40Y"}'
)


@dataclass(frozen=True)
class Filter:
    """One Beacon v2 filter, as parsed: ids normalised (`hp:0001250` → `HP:0001250`), alphanumeric
    fields by their canonical name (`age`, `sex`, `population`)."""

    id: str
    operator: str = "="
    value: str | None = None
    scope: str | None = None
    include_descendant_terms: bool = True
    similarity: str = "exact"

    def __str__(self) -> str:
        return self.id if self.value is None and self.operator == "=" else f"{self.id}{self.operator}{self.value or ''}"


# -- parsing --------------------------------------------------------------------------------------


def parse_filters(raw: object) -> list[Filter]:
    """Filters from a GET value (`"HP:0001250,NCIT:C16576"`) or a POST list of ids and objects."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[object] = list(raw.split(","))
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise BeaconRequestError(f"filters must be a list, not {type(raw).__name__}; {ACCEPTED_FORMS}")
    out: list[Filter] = []
    for position, item in enumerate(items):
        if isinstance(item, str):
            if item.strip():
                out.append(_from_text(item.strip()))
        elif isinstance(item, Mapping):
            out.append(_from_object(item, position))
        else:
            raise BeaconRequestError(
                f"filter {position + 1} is {type(item).__name__} {item!r}, neither an id nor an object; "
                + ACCEPTED_FORMS
            )
    return out


def _from_text(text: str) -> Filter:
    """An id, or `field:<operator><value>` for an alphanumeric field (the spec's GET examples)."""
    for alias in sorted(_FIELD_OF, key=len, reverse=True):
        for spelling in (alias, alias.replace(":", "_")):
            if text.startswith(spelling + ":"):
                rest = text[len(spelling) + 1 :]
                operator = next((op for op in (">=", "<=", "=", "<", ">", "!") if rest.startswith(op)), "=")
                value = rest[len(operator) :] if rest.startswith(operator) else rest
                if not value:
                    raise BeaconRequestError(
                        f"filter {text!r} has no value; write {spelling}:<operator><value>, e.g. age:>=P40Y"
                    )
                return _alphanumeric(alias, operator, value, scope=None, label=text)
    return Filter(id=normalise_curie(text))


def _from_object(obj: Mapping[Any, Any], position: int) -> Filter:
    where = f"filter {position + 1}"
    unknown = [str(k) for k in obj if k not in _OBJECT_KEYS and k not in _IGNORED_KEYS]
    if unknown:
        raise BeaconRequestError(
            f"{where} has unknown key(s) {listing(sorted(unknown))}; a filter object takes "
            f"{', '.join(_OBJECT_KEYS)}; {ACCEPTED_FORMS}"
        )
    raw_id = obj.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise BeaconRequestError(f"{where} has no id (a non-empty string, e.g. HP:0001250); {ACCEPTED_FORMS}")
    where = f"filter {raw_id!r}"
    operator = obj.get("operator", "=")
    if operator not in OPERATORS:
        raise BeaconRequestError(f"{where}: operator {operator!r} is not one of {' '.join(OPERATORS)}")
    raw_value = obj.get("value")
    if raw_value is not None and (isinstance(raw_value, bool) or not isinstance(raw_value, str | int | float)):
        raise BeaconRequestError(f"{where}: value must be a string or a number, not {type(raw_value).__name__}")
    value = None if raw_value is None else str(raw_value)
    descendants = obj.get("includeDescendantTerms", True)
    if not isinstance(descendants, bool):
        raise BeaconRequestError(f"{where}: includeDescendantTerms must be true or false, not {descendants!r}")
    similarity = obj.get("similarity", "exact")
    if similarity not in SIMILARITIES:
        raise BeaconRequestError(f"{where}: similarity {similarity!r} is not one of {', '.join(SIMILARITIES)}")
    if similarity != "exact":
        raise BeaconRequestError(
            f"{where}: similarity {similarity!r} is not supported; this beacon matches ontology terms exactly "
            "(with their descendant terms unless includeDescendantTerms is false); leave similarity out or send 'exact'"
        )
    scope = obj.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise BeaconRequestError(f"{where}: scope must be a string such as 'individuals'")
    scope = _check_scope(scope, where)
    text = raw_id.strip()
    field_alias = _FIELD_OF.get(text) or _FIELD_OF.get(normalise_curie(text))
    if field_alias is not None:
        if value is None:
            raise BeaconRequestError(
                f"{where} is an alphanumeric field: it needs a value, e.g. "
                '{"id": "age", "operator": ">=", "value": "P40Y"}'
            )
        return _alphanumeric(field_alias, operator, value, scope=scope, label=where)
    if text.startswith("population:") and value is None:
        return _alphanumeric("population", operator, text.removeprefix("population:"), scope=scope, label=where)
    if value is not None:
        raise BeaconRequestError(
            f"{where} is a term, which takes no value (only the operators = and !); "
            f"alphanumeric fields are {', '.join(FIELDS)}"
        )
    if operator not in ("=", "!"):
        raise BeaconRequestError(f"{where}: a term takes the operator = (has it) or ! (does not), not {operator!r}")
    return Filter(id=normalise_curie(text), operator=operator, scope=scope, include_descendant_terms=descendants)


def _alphanumeric(alias: str, operator: str, value: str, *, scope: str | None, label: str) -> Filter:
    name = _FIELD_OF[alias]
    if name in ("sex", "population") and operator not in ("=", "!"):
        raise BeaconRequestError(f"{label}: {name} takes the operators = and !, not {operator!r}")
    return Filter(id=name, operator=operator, value=value.strip(), scope=scope)


def _check_scope(scope: str | None, where: str) -> str | None:
    if scope is None or scope in ("individuals", "individual"):
        return None if scope is None else "individuals"
    raise BeaconRequestError(
        f"{where}: scope {scope!r} is not one this beacon filters; phenotypes, diseases, sex, age and population "
        "are kept on individuals, so leave scope out or send 'individuals' (queries on other entry types are "
        "narrowed to the matching individuals)"
    )


# -- checking against the vocabulary -----------------------------------------------------------------


def check_filters(filters: Iterable[Filter], hpo: Hpo) -> None:
    """Refuse filters on terms or fields this beacon does not know (BeaconRequestError)."""
    for f in filters:
        _kind(f, hpo)


def _kind(f: Filter, hpo: Hpo) -> str:
    if f.similarity != "exact":
        raise BeaconRequestError(f"filter {f}: only similarity 'exact' is supported")
    if f.scope not in (None, "individuals", "individual"):
        _check_scope(f.scope, f"filter {f}")
    if f.id in FIELDS:
        if f.value is None:
            raise BeaconRequestError(f"filter {f.id!r} is an alphanumeric field and needs a value")
        if f.id == "age":
            _age_value(f)
        elif f.id == "sex":
            _sex_value(f)
        if f.operator not in OPERATORS or (f.id != "age" and f.operator not in ("=", "!")):
            raise BeaconRequestError(f"filter {f}: operator {f.operator!r} does not apply to {f.id}")
        return f.id
    if f.operator not in ("=", "!") or f.value is not None:
        raise BeaconRequestError(f"filter {f}: a term takes no value and only the operators = and !")
    if is_hpo_id(f.id):
        problem = hpo.problem(f.id)
        if problem is not None:
            raise BeaconRequestError(f"filter {f.id}: {problem}; {FILTERING_TERMS_PATH} lists the terms in use")
        return "phenotype"
    if f.id in NCIT_SEX:
        return "sex-term"
    if is_disease_id(f.id):
        return "disease"
    raise BeaconRequestError(
        f"unknown filter {f.id!r}: this beacon filters individuals on HPO terms (HP:0001250), sex "
        f"({', '.join(NCIT_SEX)}), diagnoses (OMIM:, ORPHA:, MONDO: ids) and the fields {', '.join(FIELDS)}; "
        f"GET {FILTERING_TERMS_PATH} lists them"
    )


def _age_value(f: Filter) -> float:
    try:
        return parse_age_years(f.value or "")
    except ValueError as exc:
        raise BeaconRequestError(f"filter {f}: {exc}; send years (40) or an ISO 8601 duration (P40Y6M)") from None


def _sex_value(f: Filter) -> Sex:
    value = f.value or ""
    sex = NCIT_SEX.get(normalise_curie(value)) or Sex.parse(value)
    if sex is None or not value.strip():
        raise BeaconRequestError(f"filter {f}: sex {value!r} is not female, male or unknown (or {', '.join(NCIT_SEX)})")
    return sex


# -- the engine ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AnnotationIndex:
    """Annotations laid out for filtering thousands of people: arrays by row, and per term the rows
    that have it. Build it once per catalog state (`index_annotations`) and filter many times."""

    subject_ids: npt.NDArray[np.int64]
    ages: npt.NDArray[np.float64]  # NaN: unknown
    sexes: npt.NDArray[np.str_]
    present: dict[str, npt.NDArray[np.intp]]
    excluded: dict[str, npt.NDArray[np.intp]]
    diseases: dict[str, npt.NDArray[np.intp]]
    populations: dict[str, npt.NDArray[np.intp]]  # label as recorded → rows

    @property
    def size(self) -> int:
        return len(self.subject_ids)


def index_annotations(annotations: Sequence[SubjectAnnotation]) -> AnnotationIndex:
    def rows_by(values: Iterable[tuple[int, Iterable[str]]]) -> dict[str, npt.NDArray[np.intp]]:
        out: dict[str, list[int]] = {}
        for row, terms in values:
            for term in terms:
                out.setdefault(term, []).append(row)
        return {term: np.asarray(rows, np.intp) for term, rows in out.items()}

    rows = list(enumerate(annotations))
    return AnnotationIndex(
        subject_ids=np.asarray([a.subject_id for a in annotations], np.int64),
        ages=np.asarray([np.nan if a.age_years is None else a.age_years for a in annotations], np.float64),
        sexes=np.asarray([a.sex for a in annotations], np.str_),
        present=rows_by((i, a.phenotypes) for i, a in rows),
        excluded=rows_by((i, a.excluded_phenotypes) for i, a in rows),
        diseases=rows_by((i, a.diseases) for i, a in rows),
        populations=rows_by((i, a.populations) for i, a in rows),
    )


def matching_subjects(
    filters: Sequence[Filter], annotations: Sequence[SubjectAnnotation] | AnnotationIndex, hpo: Hpo
) -> set[int]:
    """The subject ids of the individuals matching every filter (all of them when there are none)."""
    index = annotations if isinstance(annotations, AnnotationIndex) else index_annotations(annotations)
    kinds = [_kind(f, hpo) for f in filters]  # every filter is checked before any is applied
    mask = np.ones(index.size, bool)
    for f, kind in zip(filters, kinds, strict=True):
        mask &= _matches(f, kind, index, hpo)
    return set(index.subject_ids[mask].tolist())


def _matches(f: Filter, kind: str, index: AnnotationIndex, hpo: Hpo) -> npt.NDArray[np.bool_]:
    if kind == "age":
        return _age_mask(f, index)
    if kind == "population":
        has = _rows_mask(index, _population_rows(f.value or "", index))
    elif kind == "sex":
        has = index.sexes == _sex_value(f).value
    elif kind == "sex-term":
        has = index.sexes == NCIT_SEX[f.id].value
    elif kind == "disease":
        has = _rows_mask(index, [index.diseases[f.id]] if f.id in index.diseases else [])
    else:
        has = _phenotype_mask(f, index, hpo)
    return ~has if f.operator == "!" else has


def _rows_mask(index: AnnotationIndex, rows: Sequence[npt.NDArray[np.intp]]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(index.size, bool)
    if rows:
        mask[np.concatenate(rows)] = True
    return mask


def _phenotype_mask(f: Filter, index: AnnotationIndex, hpo: Hpo) -> npt.NDArray[np.bool_]:
    term = hpo.resolve(f.id)
    assert term is not None  # _kind checked it
    wanted = hpo.descendants(term) if f.include_descendant_terms else frozenset({term})
    recorded = index.present
    hits = [t for t in recorded if t in wanted] if len(recorded) < len(wanted) else [t for t in wanted if t in recorded]
    mask = _rows_mask(index, [recorded[t] for t in hits])
    # Excluded (looked for, absent): the term, or a broader one above it, rules the person out.
    ruled_out = [index.excluded[a] for a in hpo.ancestors(term) if a in index.excluded]
    if ruled_out:
        mask[np.concatenate(ruled_out)] = False
    return mask


def _population_rows(value: str, index: AnnotationIndex) -> list[npt.NDArray[np.intp]]:
    pattern = re.compile(".*".join(re.escape(part) for part in value.split("%")), re.IGNORECASE)
    return [rows for label, rows in index.populations.items() if pattern.fullmatch(label)]


def _age_mask(f: Filter, index: AnnotationIndex) -> npt.NDArray[np.bool_]:
    value = _age_value(f)
    ages = index.ages
    known = ~np.isnan(ages)
    whole = np.floor(np.where(known, ages, 0.0))
    with np.errstate(invalid="ignore"):
        match f.operator:
            case "=":
                out = whole == np.floor(value)
            case "!":
                out = whole != np.floor(value)
            case "<":
                out = ages < value
            case ">":
                out = ages > value
            case "<=":
                out = ages <= value
            case _:
                out = ages >= value
    return np.asarray(out & known, bool)


# -- the filtering terms endpoint ---------------------------------------------------------------------


def filtering_terms(annotations: Sequence[SubjectAnnotation] | AnnotationIndex, hpo: Hpo) -> list[dict[str, Any]]:
    """Beacon v2 `filteringTerms`: the fields, the sex terms, and the HPO terms, diagnoses and
    populations present in the data, labelled. No counts: how many have a term is a query's answer."""
    index = annotations if isinstance(annotations, AnnotationIndex) else index_annotations(annotations)
    scopes = list(SCOPES)
    populations = sorted(index.populations)
    terms: list[dict[str, Any]] = [
        {
            "type": "alphanumeric",
            "id": "age",
            "label": "age at sample collection, in years or as an ISO 8601 duration (P40Y6M)",
            "scopes": scopes,
        },
        {
            "type": "alphanumeric",
            "id": "sex",
            "label": "sex",
            "values": [_SEX_LABELS[s] for s in Sex],
            "scopes": scopes,
        },
        {
            "type": "alphanumeric",
            "id": "population",
            "label": "population (ancestry group) the sample sheet names",
            "values": populations,
            "scopes": scopes,
        },
    ]
    terms += [{"type": "ontologyTerm", "id": SEX_NCIT[s], "label": _SEX_LABELS[s], "scopes": scopes} for s in Sex]
    for term in sorted(index.present):
        terms.append({"type": "ontologyTerm", "id": term, "label": hpo.name(term) or term, "scopes": scopes})
    for disease in sorted(index.diseases):
        entry: dict[str, Any] = {"type": "ontologyTerm", "id": disease, "scopes": scopes}
        name = hpo.disease_name(disease)
        if name:
            entry["label"] = name
        terms.append(entry)
    terms += [
        {"type": "custom", "id": f"population:{p}", "label": f"population {p}", "scopes": scopes} for p in populations
    ]
    return terms


def filtering_resources(hpo: Hpo) -> list[dict[str, str]]:
    """Beacon v2 `resources`: the ontologies the filtering terms come from (phenopackets Resource)."""
    obo = "http://purl.obolibrary.org/obo/"
    return [
        {
            "id": "hp",
            "name": "Human Phenotype Ontology",
            "url": f"{obo}hp.owl",
            "version": hpo.version,
            "nameSpacePrefix": "HP",
            "iriPrefix": f"{obo}HP_",
        },
        {
            "id": "ncit",
            "name": "NCI Thesaurus",
            "url": f"{obo}ncit.owl",
            "nameSpacePrefix": "NCIT",
            "iriPrefix": f"{obo}NCIT_",
        },
        {
            "id": "omim",
            "name": "Online Mendelian Inheritance in Man",
            "url": "https://www.omim.org",
            "nameSpacePrefix": "OMIM",
            "iriPrefix": "https://omim.org/entry/",
        },
        {
            "id": "orpha",
            "name": "Orphanet Rare Disease Ontology",
            "url": f"{obo}ordo.owl",
            "nameSpacePrefix": "ORPHA",
            "iriPrefix": "http://www.orpha.net/ORDO/Orphanet_",
        },
        {
            "id": "mondo",
            "name": "Mondo Disease Ontology",
            "url": f"{obo}mondo.owl",
            "nameSpacePrefix": "MONDO",
            "iriPrefix": f"{obo}MONDO_",
        },
    ]
