"""Every role × every route × own and another region or project: allowed or denied as policy says.

The route table below is checked against the app's routes, so a new route without a row here
(and a rule in api/security.py) fails this test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from genomenode.api.app import create_app
from genomenode.api.security import app_routes
from tests.secure_node import Person, SecureNode, add_analysed_cases, build_secure_node, case_variants

ROLES = (
    None,
    "steward",
    "admin",
    "clinician-stockholm",
    "researcher",
    "registered",
    "submitter-stockholm",
)
PROJECT = "hmb-cohort-study"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("matrix") / "node")
    add_analysed_cases(node, tmp_path_factory.mktemp("cases"))
    CASE_VARIANT.update(case_variants(node))
    return node


@pytest.fixture(scope="module")
def client(node: SecureNode) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as c:
        yield c


Call = Callable[[TestClient, dict[str, str], Person, str | None], httpx.Response]
_counter = itertools.count()


def _person_id(person: Person, user: str | None) -> str:
    """Researchers name people by their project's pseudonyms; everyone else by the node's."""
    return person.project_id if user == "researcher" else person.pseudonym


def _project(user: str | None) -> dict[str, str]:
    return {"project": PROJECT} if user == "researcher" else {}


_BEACON_GENE = {"geneId": "CYP2C19"}
CASE_VARIANT: dict[str, str] = {}  # region → the top candidate of the demo trio family-<region>, to note


def _get(url: str) -> Call:
    return lambda c, h, p, u: c.get(url, headers=h)


ROUTES: dict[tuple[str, str], Call] = {
    ("GET", "/"): lambda c, h, p, u: c.get("/", headers=h),
    ("GET", "/health"): lambda c, h, p, u: c.get("/health", headers=h),
    ("GET", "/datasets"): lambda c, h, p, u: c.get("/datasets", headers=h),
    ("GET", "/variants/{variant_id}"): lambda c, h, p, u: c.get("/variants/chr10-94781859-G-A", headers=h),
    ("GET", "/frequencies"): lambda c, h, p, u: c.get("/frequencies", params={"gene": "CYP2C19"}, headers=h),
    ("GET", "/.well-known/jwks.json"): lambda c, h, p, u: c.get("/.well-known/jwks.json", headers=h),
    ("GET", "/me"): lambda c, h, p, u: c.get("/me", headers=h),
    ("GET", "/individuals"): lambda c, h, p, u: c.get("/individuals", params=_project(u), headers=h),
    ("GET", "/individuals/{individual_id}"): lambda c, h, p, u: c.get(
        f"/individuals/{_person_id(p, u)}", params=_project(u), headers=h
    ),
    ("GET", "/individuals/{individual_id}/genotypes"): lambda c, h, p, u: c.get(
        f"/individuals/{_person_id(p, u)}/genotypes", params={"gene": "CYP2C19", **_project(u)}, headers=h
    ),
    ("PUT", "/individuals/{individual_id}/consent"): lambda c, h, p, u: c.put(
        f"/individuals/{p.pseudonym}/consent", json={"codes": ["HMB"], "source": "test"}, headers=h
    ),
    ("POST", "/individuals/{individual_id}/consent/withdrawal"): lambda c, h, p, u: c.post(
        f"/individuals/{p.pseudonym}/consent/withdrawal", headers=h
    ),
    ("POST", "/individuals/{individual_id}/erasure"): lambda c, h, p, u: c.post(
        f"/individuals/{p.pseudonym}/erasure", headers=h
    ),
    ("POST", "/projects"): lambda c, h, p, u: c.post(
        "/projects", json={"name": f"p{next(_counter)}", "purpose": {"purpose": "HMB"}}, headers=h
    ),
    ("POST", "/projects/{project}/members"): lambda c, h, p, u: c.post(
        f"/projects/{PROJECT}/members", json={"subject": "researcher"}, headers=h
    ),
    ("POST", "/projects/{project}/grants"): lambda c, h, p, u: c.post(
        f"/projects/{PROJECT}/grants", json={"dataset": "national-demo"}, headers=h
    ),
    ("DELETE", "/projects/{project}/grants/{dataset}"): lambda c, h, p, u: c.delete(
        "/projects/unknown-project/grants/national-demo", headers=h
    ),
    ("GET", "/audit/export"): lambda c, h, p, u: c.get("/audit/export", headers=h),
    ("GET", "/audit/verify"): lambda c, h, p, u: c.get("/audit/verify", headers=h),
    # access requests: calls whose answer does not depend on what other calls did (a project that
    # holds its grant already; a request id nobody made)
    ("GET", "/access-requests"): lambda c, h, p, u: c.get("/access-requests", headers=h),
    ("POST", "/access-requests"): lambda c, h, p, u: c.post(
        "/access-requests", json={"project": PROJECT, "dataset": "national-demo", "justification": "x"}, headers=h
    ),
    ("POST", "/access-requests/{request_id}/decision"): lambda c, h, p, u: c.post(
        "/access-requests/999999/decision", json={"decision": "grant"}, headers=h
    ),
    ("POST", "/access-requests/{request_id}/revocation"): lambda c, h, p, u: c.post(
        "/access-requests/999999/revocation", json={}, headers=h
    ),
    ("POST", "/access-requests/{request_id}/withdrawal"): lambda c, h, p, u: c.post(
        "/access-requests/999999/withdrawal", headers=h
    ),
    ("GET", "/cases/{name}/report"): lambda c, h, p, u: c.get(
        f"/cases/case-{p.region}/report", params={"format": "html"}, headers=h
    ),
    ("GET", "/cases/{name}/notes"): lambda c, h, p, u: c.get(f"/cases/family-{p.region}/notes", headers=h),
    ("POST", "/cases/{name}/notes"): lambda c, h, p, u: c.post(
        f"/cases/family-{p.region}/notes",
        json={"variant": CASE_VARIANT.get(p.region, "chr1-1-A-T"), "text": f"by {u}"},  # no case: any variant
        headers=h,
    ),
    ("GET", "/individuals/{individual_id}/pgx"): lambda c, h, p, u: c.get(
        f"/individuals/{_person_id(p, u)}/pgx", headers=h
    ),
    ("GET", "/pgx/summary"): lambda c, h, p, u: c.get("/pgx/summary", headers=h),
    # Beacon v2: open to all; what each caller gets is held by tests/beacon
    **{("GET", f"/api{path}"): _get(f"/api{path}")
       for path in ("", "/info", "/service-info", "/configuration", "/map", "/entry_types", "/filtering_terms")},
    ("GET", "/api/{entry}"): lambda c, h, p, u: c.get("/api/g_variants", params=_BEACON_GENE, headers=h),
    ("POST", "/api/{entry}"): lambda c, h, p, u: c.post(
        "/api/g_variants", json={"query": {"requestParameters": {"g_variant": _BEACON_GENE}}}, headers=h
    ),
    ("GET", "/api/{entry}/{id}"): lambda c, h, p, u: c.get("/api/datasets/national-demo", headers=h),
    ("POST", "/api/{entry}/{id}"): lambda c, h, p, u: c.post("/api/datasets/national-demo", json={}, headers=h),
    ("GET", "/api/{entry}/{id}/{target}"): lambda c, h, p, u: c.get(
        "/api/datasets/national-demo/g_variants", params=_BEACON_GENE, headers=h
    ),
    ("POST", "/api/{entry}/{id}/{target}"): lambda c, h, p, u: c.post(
        "/api/datasets/national-demo/g_variants",
        json={"query": {"requestParameters": _BEACON_GENE}},
        headers=h,
    ),
    # federated Beacon (no peers configured here: the node answers alone; tests/federation has peers)
    ("GET", "/api/federated/{entry}"): lambda c, h, p, u: c.get(
        "/api/federated/g_variants", params=_BEACON_GENE, headers=h
    ),
    ("POST", "/api/federated/{entry}"): lambda c, h, p, u: c.post(
        "/api/federated/g_variants", json={"query": {"requestParameters": {"g_variant": _BEACON_GENE}}}, headers=h
    ),
}  # fmt: skip

PUBLIC = {
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/datasets"),
    ("GET", "/variants/{variant_id}"),
    ("GET", "/frequencies"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/me"),
    ("GET", "/pgx/summary"),
    *(route for route in ROUTES if route[1].startswith("/api")),
}
INDIVIDUAL = {("GET", "/individuals/{individual_id}"), ("GET", "/individuals/{individual_id}/genotypes")}
CASES = {  # every member of the family must be visible to the caller
    ("GET", "/cases/{name}/report"),
    ("GET", "/cases/{name}/notes"),
    ("POST", "/cases/{name}/notes"),
}
CARE = {("GET", "/individuals/{individual_id}/pgx")}  # care, not research: a clinician of the region or a steward
# what each signed-in role gets from the access-request calls above (anonymous: 401)
ACCESS_REQUESTS: dict[tuple[str, str], dict[str | None, int]] = {
    ("GET", "/access-requests"): {"steward": 200, "researcher": 200},  # others: 403
    ("POST", "/access-requests"): {"researcher": 400},  # the project holds the grant already; others: 403
    ("POST", "/access-requests/{request_id}/decision"): {"steward": 404},  # no such request; others: 403
    ("POST", "/access-requests/{request_id}/revocation"): {"steward": 404},
    ("POST", "/access-requests/{request_id}/withdrawal"): {
        u: 404 for u in ROLES if u
    },  # anyone signed in: none of theirs
}
STEWARD_ONLY = set(ROUTES) - PUBLIC - INDIVIDUAL - CASES - CARE - set(ACCESS_REQUESTS) - {("GET", "/individuals")}
STEWARD_OK = {("DELETE", "/projects/{project}/grants/{dataset}"): 404}  # the project in the call does not exist


def expected(route: tuple[str, str], user: str | None, own: bool) -> int:
    if route in PUBLIC:
        return 200
    if user is None:
        return 401
    if route == ("GET", "/individuals"):
        return 200
    if route in ACCESS_REQUESTS:
        return ACCESS_REQUESTS[route].get(user, 403)
    if route in CASES or route in CARE:
        ok = 201 if route[0] == "POST" else 200
        return ok if user == "steward" or (user == "clinician-stockholm" and own) else 404
    if route in INDIVIDUAL:
        if user == "steward":
            return 200
        if user in ("clinician-stockholm", "researcher") and own:
            return 200
        return 404  # another region's or project's person: the same answer as a person who does not exist
    assert route in STEWARD_ONLY
    if user == "steward":
        return STEWARD_OK.get(route, 201 if route[0] == "POST" and route[1].endswith(("/projects", "/grants")) else 200)
    return 403


def test_matrix__every_route_of_the_app_is_in_the_table(client: TestClient) -> None:
    routes = app_routes(client.app)  # type: ignore[arg-type]
    assert routes == set(ROUTES), f"add these routes to the matrix: {routes ^ set(ROUTES)}"


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("user", ROLES, ids=lambda u: u or "anonymous")
@pytest.mark.parametrize("own", [True, False], ids=["own", "other"])
def test_matrix__role_route_and_object(
    client: TestClient, node: SecureNode, route: tuple[str, str], user: str | None, own: bool
) -> None:
    # GIVEN a person in the caller's own region/project (stockholm, consent covering the project)
    # or one outside it (skåne for the clinician; a consent the project's purpose does not match)
    person = node.stockholm if own else (node.not_covered if user == "researcher" else node.skane)
    if route[1].endswith("/withdrawal"):
        person = node.spare[0]  # a withdrawal changes the person: never one other tests rely on
    if route[1].endswith("/erasure"):
        person = node.spare[1 if own else 2]  # likewise: each erased once, by the steward
    response = ROUTES[route](client, node.headers(user), person, user)
    assert response.status_code == expected(route, user, own), response.text


def test_matrix__another_regions_person_looks_exactly_like_no_person(client: TestClient, node: SecureNode) -> None:
    headers = node.headers("clinician-stockholm")
    other = client.get(f"/individuals/{node.skane.pseudonym}/genotypes", params={"gene": "CYP2C19"}, headers=headers)
    missing = client.get(f"/individuals/{'0' * 64}/genotypes", params={"gene": "CYP2C19"}, headers=headers)
    assert (other.status_code, other.json()["error"]["type"]) == (missing.status_code, missing.json()["error"]["type"])
    assert other.json()["error"]["message"].replace(node.skane.pseudonym, "X") == missing.json()["error"][
        "message"
    ].replace("0" * 64, "X")


def test_matrix__a_clinician_lists_only_their_regions_people(client: TestClient, node: SecureNode) -> None:
    people = client.get("/individuals", headers=node.headers("clinician-stockholm")).json()
    assert people and {r for p in people for r in p["regions"]} == {"stockholm"}


def test_matrix__a_researcher_sees_project_pseudonyms_never_the_nodes(client: TestClient, node: SecureNode) -> None:
    people = client.get("/individuals", params={"project": PROJECT}, headers=node.headers("researcher")).json()
    ids = {p["id"] for p in people}
    assert node.stockholm.project_id in ids and node.stockholm.pseudonym not in ids
    assert node.not_covered.project_id not in ids


def test_matrix__genotypes_for_an_allowed_caller_are_the_persons_calls(client: TestClient, node: SecureNode) -> None:
    body = client.get(
        f"/individuals/{node.stockholm.pseudonym}/genotypes",
        params={"gene": "CYP2C19"},
        headers=node.headers("clinician-stockholm"),
    ).json()
    assert body["assembly"] == "GRCh38" and body["region"].startswith("chr10:")
    assert all(c["genotype"] != "0/0" for c in body["calls"])


def test_matrix__the_public_gets_small_counts_hidden_a_steward_sees_them(client: TestClient, node: SecureNode) -> None:
    public = client.get("/frequencies", params={"gene": "CYP2C19", "by": "centre"}).json()["variants"]
    steward = client.get(
        "/frequencies", params={"gene": "CYP2C19", "by": "centre"}, headers=node.headers("steward")
    ).json()["variants"]
    floor = node.settings.small_count_floor
    assert any(v["suppressed"] for v in public)
    assert all(v["ac"] is None or v["ac"] == 0 or v["ac"] >= floor for v in public)
    assert not any(v["suppressed"] for v in steward)
    assert any(0 < v["ac"] < floor for v in steward)


def test_matrix__routes_without_a_rule_refuse_to_build(node: SecureNode, tmp_path: Path) -> None:
    from genomenode.api.security import ROUTE_ACCESS

    assert set(ROUTE_ACCESS) == set(ROUTES)
