"""Beacon v2 g_variants on the 1000 Genomes test data: each query kind gives bcftools' answer,
granularity follows the caller's reach on each dataset, every response validates against the
official schemas, and bad requests get a 400 Beacon error saying why."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from genomenode.access.gate import AccessControl
from genomenode.api.app import create_app
from genomenode.catalog import sharing
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.beacon.schemas import RESPONSE_SCHEMAS, assert_valid, assert_valid_response
from tests.conftest import G1K_BATCHES, require_testdata
from tests.pipeline.helpers import Counts, bcftools_counts

CONTROLLED, OPEN = "1000g", "1000g-open"


@dataclass
class Node:
    settings: Settings
    client: TestClient
    tokens: dict[str, str]
    carried: dict[str, set[tuple[str, int, str, str]]]  # dataset → alleles with ac > 0 (bcftools)
    counts: dict[str, Counts]

    def get(self, path: str, user: str | None = None, **params: Any) -> Any:
        return self.client.get(f"/api{path}", params=params, headers=self._headers(user))

    def post(self, path: str, body: dict[str, Any], user: str | None = None) -> Any:
        return self.client.post(f"/api{path}", json=body, headers=self._headers(user))

    def _headers(self, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    require_testdata()
    bcftools = shutil.which("bcftools")
    assert bcftools, "bcftools is installed by make install"
    settings = Settings(data_dir=tmp_path_factory.mktemp("beacon") / "node")
    layout = {CONTROLLED: G1K_BATCHES[:2], OPEN: G1K_BATCHES[2:3]}
    counts: dict[str, Counts] = {}
    for dataset, files in layout.items():
        for i, path in enumerate(files):
            ingest(settings, IngestRequest(files=[path], dataset=dataset, centre=f"centre-{dataset}-{i}"))
            for key, (ac, an, hom, hemi) in bcftools_counts(bcftools, path).items():
                old = counts.setdefault(dataset, {}).get(key, (0, 0, 0, 0))
                counts[dataset][key] = (old[0] + ac, old[1] + an, old[2] + hom, old[3] + hemi)
    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            sharing.set_dataset_policy(s, name=OPEN, level="PUBLIC", data_use=None)
            for user, roles in (("steward", ["steward"]), ("registered", ["registered"])):
                sharing.upsert_user(s, issuer=settings.public_url, subject=user, roles=roles)
        tokens = {u: gate.issue_token(issuer=settings.public_url, subject=u) for u in ("steward", "registered")}
    finally:
        gate.close()
    carried = {d: {k for k, v in c.items() if v[0] > 0} for d, c in counts.items()}
    with TestClient(create_app(settings)) as client:
        yield Node(settings, client, tokens, carried, counts)


def _valid(body: dict[str, Any]) -> dict[str, Any]:
    granularity = body["meta"]["returnedGranularity"]
    kind = "record" if "response" in body and granularity == "record" else granularity
    if kind == "count":
        assert_valid(body, RESPONSE_SCHEMAS["count"])
    else:
        assert_valid_response(body, kind, "g_variants" if kind == "record" else None)
    return body


def _sets(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in body.get("response", {}).get("resultSets", [])}


def _in_range(alleles: set[tuple[str, int, str, str]], start0: int, end0: int) -> set[tuple[str, int, str, str]]:
    """bcftools/tabix overlap: the REF span [pos, pos+len(ref)-1] meets [start0+1, end0]."""
    return {a for a in alleles if a[1] <= end0 and a[1] + len(a[2]) - 1 >= start0 + 1}


def _ids(result_set: dict[str, Any]) -> set[tuple[str, int, str, str]]:
    out = set()
    for r in result_set["results"]:
        chrom, pos, ref, alt = r["variantInternalId"].split("-")
        out.add((chrom, int(pos), ref, alt))
    return out


# -- query kinds against bcftools ---------------------------------------------------------------
def test_g_variants__sequence_query_finds_the_allele_bcftools_reports(node: Node) -> None:
    snv = min(a for a in node.carried[CONTROLLED] if len(a[2]) == len(a[3]) == 1)
    _, pos, ref, alt = snv
    for name in ("22", "chr22", "refseq:NC_000022.10"):
        body = _valid(
            node.get(
                "/g_variants", "steward", referenceName=name, start=pos - 1, referenceBases=ref,
                alternateBases=alt, assemblyId="GRCh37", requestedGranularity="record",
            ).json()
        )  # fmt: skip
        assert body["responseSummary"]["exists"] is True
        assert _ids(_sets(body)[CONTROLLED]) == {snv}
    other = next(b for b in "ACGT" if b not in (ref, alt))
    miss = node.get("/g_variants", "steward", referenceName="22", start=pos - 1, alternateBases=other).json()
    assert _valid(miss)["responseSummary"]["exists"] is False


def test_g_variants__reference_name_matches_whole_names_only(node: Node) -> None:
    _, pos, _, alt = min(node.carried[CONTROLLED])
    body = node.get("/g_variants", "steward", referenceName="2", start=pos - 1, alternateBases=alt).json()
    assert _valid(body)["responseSummary"]["exists"] is False  # chr2 is not chr22


def test_g_variants__indels_are_found_anchored_or_trimmed(node: Node) -> None:
    deletion = min(a for a in node.carried[CONTROLLED] if len(a[2]) > 1 and len(a[3]) == 1)
    _, pos, ref, alt = deletion
    anchored = node.get("/g_variants", "steward", referenceName="22", start=pos - 1, referenceBases=ref,
                        alternateBases=alt, requestedGranularity="record").json()  # fmt: skip
    trimmed = node.post(
        "/g_variants",
        {"query": {"requestParameters": {"g_variant": {"referenceName": "22", "start": [pos],
                   "referenceBases": ref[1:], "alternateBases": ""}}, "requestedGranularity": "record"}},
        "steward",
    ).json()  # fmt: skip
    assert _ids(_sets(_valid(anchored))[CONTROLLED]) == {deletion} == _ids(_sets(_valid(trimmed))[CONTROLLED])


def test_g_variants__range_query_counts_what_bcftools_finds_in_the_region(node: Node) -> None:
    start0, end0 = 16_050_000, 16_100_000
    body = _valid(node.get("/g_variants", "steward", referenceName="22", start=start0, end=end0,
                           requestedGranularity="count", includeResultsetResponses="ALL").json())  # fmt: skip
    for dataset, alleles in node.carried.items():
        assert _sets(body)[dataset]["resultsCount"] == len(_in_range(alleles, start0, end0)), dataset
    expected = sum(len(_in_range(a, start0, end0)) for a in node.carried.values())
    assert body["responseSummary"]["numTotalResults"] == expected


def _symbolic(alt: str) -> bool:
    return alt.startswith("<")


@pytest.mark.parametrize(("variant_type", "keep"), [
    ("SNP", lambda r, a: len(r) == len(a) == 1),
    ("DEL", lambda r, a: (len(r) > len(a) and not _symbolic(a)) or a in ("<CN0>", "<CN1>") or a.startswith("<DEL")),
    ("INS", lambda r, a: (len(a) > len(r) and not _symbolic(a)) or a.startswith("<INS")),
    ("INDEL", lambda r, a: len(a) != len(r) and not _symbolic(a)),
    ("CNV", lambda r, a: a.startswith(("<CN", "<DEL", "<DUP"))),
    ("EFO:0030070", lambda r, a: (a.startswith("<CN") and a not in ("<CN0>", "<CN1>")) or a.startswith("<DUP")),
])  # fmt: skip
def test_g_variants__range_with_variant_type_keeps_that_kind(node: Node, variant_type: str, keep: Any) -> None:
    start0, end0 = 16_000_000, 18_000_000
    body = _valid(node.get("/g_variants", "steward", referenceName="22", start=start0, end=end0,
                           variantType=variant_type, requestedGranularity="count").json())  # fmt: skip
    expected = {a for a in _in_range(node.carried[CONTROLLED], start0, end0) if keep(a[2], a[3])}
    assert _sets(body)[CONTROLLED]["resultsCount"] == len(expected)


def test_g_variants__bracket_query_bounds_start_and_end(node: Node) -> None:
    deletions = sorted(a for a in node.carried[CONTROLLED] if len(a[2]) > 2)
    target = deletions[len(deletions) // 2]
    start0, end0 = target[1] - 1, target[1] - 1 + len(target[2])
    body = node.post(
        "/g_variants",
        {"query": {"requestParameters": {"referenceName": "22", "start": [start0 - 100, start0],
                   "end": [end0, end0 + 100]}, "requestedGranularity": "record"}},  # the flat form
        "steward",
    ).json()  # fmt: skip
    expected = {
        a for a in node.carried[CONTROLLED]
        if start0 - 100 <= a[1] - 1 <= start0 and end0 <= a[1] - 1 + len(a[2]) <= end0 + 100
    }  # fmt: skip
    assert target in expected
    assert _ids(_sets(_valid(body))[CONTROLLED]) == expected


def test_g_variants__gene_query_covers_the_gene_span(node: Node) -> None:
    body = _valid(node.get("/g_variants", "steward", geneId="POTEH", assemblyId="GRCh37",
                           requestedGranularity="count").json())  # fmt: skip
    span = node.client.get("/frequencies", params={"gene": "POTEH"}).json()["region"]
    start, end = (int(x) for x in span.split(":")[1].split("-"))
    assert _sets(body)[CONTROLLED]["resultsCount"] == len(_in_range(node.carried[CONTROLLED], start - 1, end))


def test_g_variants__n_in_the_bases_matches_any_base(node: Node) -> None:
    pos = min(a for a in node.carried[CONTROLLED] if len(a[2]) == len(a[3]) == 1)[1]
    body = node.get("/g_variants", "steward", referenceName="22", start=pos - 1, alternateBases="N",
                    requestedGranularity="record").json()  # fmt: skip
    found = _ids(_sets(_valid(body))[CONTROLLED])
    assert found == {a for a in node.carried[CONTROLLED] if a[1] == pos and len(a[2]) == len(a[3]) == 1}


def test_g_variants__get_nested_post_and_flat_post_agree(node: Node) -> None:
    params = {"referenceName": "22", "start": 16_050_000, "end": 16_060_000}
    via_get = node.get("/g_variants", "steward", **params, requestedGranularity="count").json()
    query = {"requestedGranularity": "count"}
    nested = node.post("/g_variants", {"query": {**query, "requestParameters": {"g_variant": {
        **params, "start": [params["start"]], "end": [params["end"]]}}}}, "steward").json()  # fmt: skip
    flat = node.post("/g_variants", {"meta": {"apiVersion": "v2.0"}, "query": {**query, "requestParameters": {
        **params, "start": [params["start"]], "end": [params["end"]]}}}, "steward").json()  # fmt: skip
    totals = {b["responseSummary"]["numTotalResults"] for b in (via_get, nested, flat)}
    assert len(totals) == 1 and totals.pop() > 0


def test_g_variants__cross_lookup_through_a_dataset_answers_for_that_dataset_only(node: Node) -> None:
    body = _valid(node.get(f"/datasets/{OPEN}/g_variants", "steward", referenceName="22", start=16_050_000,
                           end=16_100_000, requestedGranularity="count").json())  # fmt: skip
    assert set(_sets(body)) == {OPEN}


def test_g_variants__one_record_by_its_id(node: Node) -> None:
    allele = min(node.carried[OPEN])
    variant_id = "-".join(str(x) for x in allele)
    body = _valid(node.get(f"/g_variants/{variant_id}", requestedGranularity="record").json())
    assert _ids(_sets(body)[OPEN]) == {allele}


# -- granularity and small counts ---------------------------------------------------------------
def test_granularity__drops_with_the_callers_reach_on_each_dataset(node: Node) -> None:
    params = {"referenceName": "22", "start": 16_050_000, "end": 16_100_000, "requestedGranularity": "record"}
    anonymous = _valid(node.get("/g_variants", **params).json())
    registered = _valid(node.get("/g_variants", "registered", **params).json())
    steward = _valid(node.get("/g_variants", "steward", **params).json())
    # the public: records from the PUBLIC dataset, nothing but existence from the CONTROLLED one
    assert anonymous["meta"]["returnedGranularity"] == "record"
    assert set(_sets(anonymous)) == {OPEN}
    # registered: the CONTROLLED dataset's count, no records
    controlled = _sets(registered)[CONTROLLED]
    assert controlled["results"] == [] and controlled["resultsCount"] > 0
    assert controlled["info"]["granularity"] == "count"
    # a steward: records everywhere
    assert all(s["results"] for s in _sets(steward).values())
    # asking for less always gives less
    boolean = _valid(node.get("/g_variants", "steward", **{**params, "requestedGranularity": "boolean"}).json())
    assert set(boolean) == {"meta", "responseSummary"} and boolean["meta"]["returnedGranularity"] == "boolean"


def test_granularity__public_records_hide_small_counts(node: Node) -> None:
    params = {"referenceName": "22", "start": 16_050_000, "end": 16_150_000, "requestedGranularity": "record",
              "limit": 0}  # fmt: skip
    public = _sets(_valid(node.get("/g_variants", **params).json()))[OPEN]["results"]
    exact = {
        r["variantInternalId"]: r for r in _sets(node.get("/g_variants", "steward", **params).json())[OPEN]["results"]
    }
    assert public, "the PUBLIC dataset shows records to anyone"
    hidden = 0
    assert len(exact) < 1000, "the whole region on one page"
    for record in public:
        shown = [f for p in record.get("frequencyInPopulations", []) for f in p["frequencies"]]
        assert all(not 0 < f["alleleCount"] < 5 for f in shown), record
        truth = [f for p in exact[record["variantInternalId"]]["frequencyInPopulations"] for f in p["frequencies"]]
        hidden += len(truth) - len(shown)
    assert hidden > 0, "rare alleles exist in the test data, so some cells must be hidden"


# -- framework and errors ------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "kind"), [
    ("", "info"), ("/info", "info"), ("/service-info", "service-info"), ("/configuration", "configuration"),
    ("/map", "map"), ("/entry_types", "entry_types"),
])  # fmt: skip
def test_framework__endpoints_validate_against_the_spec(node: Node, path: str, kind: str) -> None:
    response = node.get(path)
    assert response.status_code == 200
    assert_valid(response.json(), RESPONSE_SCHEMAS[kind])


def test_datasets__listed_with_their_security_level_and_validating(node: Node) -> None:
    body = node.get("/datasets", requestedGranularity="record").json()
    assert_valid_response(body, "collections", "datasets")
    levels = {d["id"]: d["info"]["securityLevel"] for d in body["response"]["collections"]}
    assert levels == {CONTROLLED: "CONTROLLED", OPEN: "PUBLIC"}


@pytest.mark.parametrize("params", [
    {"referenceName": "22"},
    {"referenceName": "22", "start": 100, "end": 50},
    {"referenceName": "22", "start": 100, "alternateBases": "XYZ"},
    {"referenceName": "chrQ", "start": 100, "alternateBases": "A"},
    {"referenceName": "22", "start": 100, "alternateBases": "A", "assemblyId": "CanFam3"},
    {"geneId": "NOT_A_GENE_XYZ"},
    {"referenceName": "22", "start": 100, "end": 200, "variantType": "WEIRD"},
    {"referenceName": "22", "start": "abc", "alternateBases": "A"},
    {"referenceName": "22", "start": 100, "alternateBases": "A", "color": "blue"},
    {"referenceName": "22", "start": 100, "alternateBases": "A", "requestedGranularity": "everything"},
    {"aminoacidChange": "V600E"},
])  # fmt: skip
def test_errors__a_bad_request_gets_a_400_beacon_error_naming_the_problem(node: Node, params: dict[str, Any]) -> None:
    response = node.get("/g_variants", **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert_valid(body, RESPONSE_SCHEMAS["error"])
    assert body["error"]["errorCode"] == 400 and len(body["error"]["errorMessage"]) > 20


def test_errors__a_body_that_is_not_json_or_not_an_object_is_a_400(node: Node) -> None:
    for content in (b"{not json", b"[1, 2]", b'{"query": []}'):
        response = node.client.post("/api/g_variants", content=content, headers={"content-type": "application/json"})
        assert response.status_code in (400, 422), response.text
        assert response.status_code < 500


def test_rate_limit__a_caller_past_the_limit_gets_429_with_retry_after(node: Node) -> None:
    strict = node.settings.model_copy(update={"beacon_rate_limit": 6})  # a burst of one, then one per 10 s
    with TestClient(create_app(strict)) as client:
        assert client.get("/api/info").status_code == 200  # framework documents are not limited
        first = client.get("/api/g_variants", params={"geneId": "POTEH", "assemblyId": "GRCh37"})
        second = client.get("/api/g_variants", params={"geneId": "POTEH", "assemblyId": "GRCh37"})
    assert first.status_code == 200
    assert second.status_code == 429 and int(second.headers["Retry-After"]) >= 1
    assert_valid(second.json(), RESPONSE_SCHEMAS["error"])
