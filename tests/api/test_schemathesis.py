"""Schemathesis against the node's own OpenAPI document: no 5xx, and every answer matches its schema.

Two halves:
- fuzzing: schemathesis generates requests for every operation in /openapi.json (its examples,
  coverage and fuzzing phases) and sends them in-process through its ASGI transport, once with the
  steward's token, once anonymously and once as the researcher. Every answer must be below 500 and,
  where the schema documents the status, match the documented body.
- known-good requests: random strings rarely name a real variant, person or project, so the 2xx
  bodies (the ones the schema describes in detail) are driven by a table of real requests against
  the synthetic node, held to the same checks and to their expected status.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from genomenode.api.app import create_app
from genomenode.settings import Settings
from genomenode.simulate.national import PROJECT
from tests.secure_node import SecureNode, add_analysed_cases, build_secure_node, case_variants

CHECKS = [not_a_server_error, response_schema_conformance]
DATASET = "national-demo"
GENE = "CYP2C19"

# The OpenAPI document does not depend on the data: it is read from an app that is never started, at
# import, because `schema.parametrize()` needs it to collect one test per operation. (The lazy
# `schemathesis.pytest.from_fixture` would let a fixture build it, but schemathesis 4.32.5's lazy
# runner sets `request.node._nodeid`, which pytest 9 no longer has.) Requests go to the real node's
# app, passed per call: `case.call(app=...)` sends them through schemathesis's ASGI transport.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(data_dir=Path("never-started"), env="development")).openapi(),
    config=schemathesis.Config(),  # explicit: a schemathesis.toml found on the way up does not change the run
)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("schemathesis") / "node", individuals=40, seed=11)
    add_analysed_cases(node, tmp_path_factory.mktemp("cases"))
    return node


@pytest.fixture(scope="module")
def app(node: SecureNode) -> Iterator[FastAPI]:
    yield create_app(node.settings)
    # schemathesis starts the app's lifespan on the first request and keeps it until the process
    # exits; end it here so the node's catalog and store are closed while the module's data exist.
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module", params=["steward", None, "researcher"], ids=lambda u: u or "anonymous")
def auth(request: pytest.FixtureRequest, node: SecureNode) -> dict[str, str]:
    headers: dict[str, str] = node.headers(request.param)
    return headers


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_api__fuzzed_requests_get_no_server_error_and_documented_bodies(
    case: schemathesis.Case, app: FastAPI, auth: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=auth, checks=CHECKS)


@dataclass(frozen=True)
class Real:
    """Names that exist in the synthetic node, for requests that reach the success paths."""

    variant: str
    person: str  # the node's pseudonym of someone the steward may see
    project_person: str  # the project's pseudonym of someone the researcher may see
    consent_person: str  # people whose state the state-changing requests below change
    withdraw_person: str
    erase_person: str
    revoke_project: str  # a project holding a grant on DATASET, for the revocation
    case_variant: str  # the top candidate of the demo trio family-stockholm, for a note on it
    ask_project: str  # a project of the researcher with nothing asked yet, for a new access request
    decide_request: str  # a pending access request, for the steward's decision (then its revocation)
    withdraw_request: str  # another pending one, for the researcher's withdrawal


@pytest.fixture(scope="module")
def real(node: SecureNode, app: FastAPI) -> Real:
    steward = node.headers("steward")
    with asgi.get_client(app) as client:
        answer = client.get("/frequencies", params={"gene": GENE}, headers=steward)
        assert answer.status_code == 200, answer.text
        v = next(v for v in answer.json()["variants"] if v["ac"])
        for path, body in (
            ("/projects", {"name": "revoke-me", "purpose": {"purpose": "HMB"}}),
            ("/projects/revoke-me/grants", {"dataset": DATASET}),
        ):
            made = client.post(path, json=body, headers=steward)
            assert made.status_code == 201, made.text
        purpose = {"purpose": "HMB", "genetic_study": True, "ethics_approved": True}
        requests = []
        for project in ("ask-new", "ask-decide", "ask-withdraw"):
            made = client.post("/projects", json={"name": project, "purpose": purpose}, headers=steward)
            assert made.status_code == 201, made.text
            member = client.post(f"/projects/{project}/members", json={"subject": "researcher"}, headers=steward)
            assert member.status_code == 200, member.text
            if project != "ask-new":
                asked = client.post(
                    "/access-requests",
                    json={"project": project, "dataset": DATASET, "justification": "frequencies"},
                    headers=node.headers("researcher"),
                )
                assert asked.status_code == 201, asked.text
                requests.append(str(asked.json()["id"]))
    return Real(
        variant=f"{v['chrom']}-{v['pos']}-{v['ref']}-{v['alt']}",
        person=node.stockholm.pseudonym,
        project_person=node.stockholm.project_id,
        consent_person=node.spare[0].pseudonym,
        withdraw_person=node.spare[1].pseudonym,
        erase_person=node.spare[2].pseudonym,
        revoke_project="revoke-me",
        case_variant=case_variants(node)["stockholm"],
        ask_project="ask-new",
        decide_request=requests[0],
        withdraw_request=requests[1],
    )


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # the operation's path template, as in the OpenAPI document
    user: str | None
    status: int
    path_parameters: dict[str, str] = field(default_factory=dict)  # values may name a `Real` field: "{variant}"
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None


_names = itertools.count()
KNOWN_GOOD = [
    *(
        Call("GET", p, u, 200)
        for p in ("/health", "/datasets", "/.well-known/jwks.json", "/me")
        for u in (None, "steward")
    ),
    *(Call("GET", "/variants/{variant_id}", u, 200, {"variant_id": "{variant}"}) for u in (None, "steward")),
    Call("GET", "/variants/{variant_id}", "steward", 200, {"variant_id": "{variant}"}, {"dataset": DATASET}),
    *(
        Call("GET", "/frequencies", u, 200, query={"gene": GENE, **({"by": by} if by else {})})
        for u in (None, "steward")
        for by in (None, "population", "sex", "centre")
    ),
    Call("GET", "/frequencies", "researcher", 200, query={"gene": GENE, "dataset": DATASET, "pass_only": True}),
    Call("GET", "/frequencies", None, 200, query={"region": "chr10:94700000-94900000", "by": "sex"}),
    Call("GET", "/individuals", "steward", 200),
    Call("GET", "/individuals", "researcher", 200, query={"project": PROJECT}),
    Call("GET", "/individuals", "clinician-stockholm", 200),
    Call("GET", "/individuals/{individual_id}", "steward", 200, {"individual_id": "{person}"}),
    Call(
        "GET",
        "/individuals/{individual_id}",
        "researcher",
        200,
        {"individual_id": "{project_person}"},
        {"project": PROJECT},
    ),
    Call(
        "GET", "/individuals/{individual_id}/genotypes", "steward", 200, {"individual_id": "{person}"}, {"gene": GENE}
    ),
    Call(
        "GET",
        "/individuals/{individual_id}/genotypes",
        "clinician-stockholm",
        200,
        {"individual_id": "{person}"},
        {"region": "chr10:94700000-94900000"},
    ),
    Call(
        "POST", "/projects", "steward", 201, body={"name": f"known-good-{next(_names)}", "purpose": {"purpose": "HMB"}}
    ),
    Call("POST", "/projects/{project}/members", "steward", 200, {"project": PROJECT}, body={"subject": "researcher"}),
    Call(
        "POST",
        "/projects/{project}/grants",
        "steward",
        201,
        {"project": PROJECT},
        body={"dataset": DATASET, "expires_at": "2099-01-01T00:00:00Z"},
    ),
    Call(
        "DELETE",
        "/projects/{project}/grants/{dataset}",
        "steward",
        200,
        {"project": "{revoke_project}", "dataset": DATASET},
    ),
    Call(
        "PUT",
        "/individuals/{individual_id}/consent",
        "steward",
        200,
        {"individual_id": "{consent_person}"},
        body={"codes": ["HMB"], "signed_on": "2024-05-01T00:00:00Z", "source": "schemathesis"},
    ),
    Call(
        "POST",
        "/individuals/{individual_id}/consent/withdrawal",
        "steward",
        200,
        {"individual_id": "{withdraw_person}"},
    ),
    Call("POST", "/individuals/{individual_id}/erasure", "steward", 200, {"individual_id": "{erase_person}"}),
    Call("GET", "/audit/verify", "steward", 200),
    Call("POST", "/access-requests", "researcher", 201,
         body={"project": "{ask_project}", "dataset": DATASET, "justification": "National allele frequencies"}),
    *(Call("GET", "/access-requests", u, 200, query=q)
      for u, q in (("steward", {"status": "pending"}), ("researcher", {}))),
    Call("POST", "/access-requests/{request_id}/decision", "steward", 200, {"request_id": "{decide_request}"},
         body={"decision": "grant", "note": "approved"}),
    Call("POST", "/access-requests/{request_id}/revocation", "steward", 200, {"request_id": "{decide_request}"},
         body={"note": "project ended"}),
    Call("POST", "/access-requests/{request_id}/withdrawal", "researcher", 200,
         {"request_id": "{withdraw_request}"}),
    *(Call("GET", "/cases/{name}/report", u, 200, {"name": "case-stockholm"}, {"format": f})
      for u, f in (("steward", "json"), ("clinician-stockholm", "html"), ("steward", "tsv"))),
    Call("GET", "/cases/{name}/report", "clinician-stockholm", 404, {"name": "case-skane"}),
    *(Call("GET", "/cases/{name}/notes", u, s, {"name": "family-stockholm"})
      for u, s in (("steward", 200), ("clinician-skane", 404))),
    Call("POST", "/cases/{name}/notes", "clinician-stockholm", 201, {"name": "family-stockholm"},
         body={"variant": "{case_variant}", "text": "Confirm by Sanger.", "classification": "likely_pathogenic"}),
    *(Call("GET", "/individuals/{individual_id}/pgx", u, s, {"individual_id": "{person}"}, {"format": f})
      for u, s, f in (("clinician-stockholm", 200, "json"), ("steward", 200, "html"), ("researcher", 404, "json"))),
    Call("GET", "/pgx/summary", None, 200),
    Call("GET", "/pgx/summary", "steward", 200),
    # Beacon v2 (its bodies are held to the Beacon schemas by tests/beacon)
    *(Call("GET", p, None, 200) for p in ("/api", "/api/info", "/api/service-info", "/api/configuration",
                                           "/api/map", "/api/entry_types", "/api/filtering_terms")),
    Call("GET", "/api/{entry}", None, 200, {"entry": "g_variants"}, {"geneId": GENE}),
    Call("POST", "/api/{entry}", "steward", 200, {"entry": "g_variants"},
         body={"query": {"requestParameters": {"g_variant": {"geneId": GENE}}, "requestedGranularity": "record"}}),
    Call("GET", "/api/{entry}/{id}", None, 200, {"entry": "datasets", "id": DATASET}),
    Call("POST", "/api/{entry}/{id}", "researcher", 200, {"entry": "g_variants", "id": "{variant}"}, body={}),
    Call("GET", "/api/{entry}/{id}/{target}", "steward", 200, {"entry": "datasets", "id": DATASET,
         "target": "g_variants"}, {"geneId": GENE, "requestedGranularity": "count"}),
    Call("POST", "/api/{entry}/{id}/{target}", None, 200, {"entry": "datasets", "id": DATASET,
         "target": "g_variants"}, body={"query": {"requestParameters": {"geneId": GENE}}}),
    Call("GET", "/api/federated/{entry}", "researcher", 200, {"entry": "g_variants"},
         {"geneId": GENE, "requestedGranularity": "count"}),
    Call("POST", "/api/federated/{entry}", None, 200, {"entry": "g_variants"},
         body={"query": {"requestParameters": {"g_variant": {"geneId": GENE}}}}),
    Call(
        "GET", "/audit/export", "steward", 200, query={"since": "2000-01-01T00:00:00Z", "action": ["read.individual"]}
    ),
]  # fmt: skip


def _named(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A body whose top-level "{field}" strings name a `Real` field, filled in."""
    return {k: v.format(**names) if isinstance(v, str) and v.startswith("{") else v for k, v in body.items()}


@pytest.mark.parametrize(
    "call", KNOWN_GOOD, ids=lambda c: f"{c.method} {c.path} {c.user or 'anonymous'} {sorted(c.query.items())}"
)
def test_api__known_good_requests_get_their_status_and_documented_bodies(
    call: Call, app: FastAPI, node: SecureNode, real: Real
) -> None:
    names = vars(real)
    case = schema[call.path][call.method].Case(
        path_parameters={k: v.format(**names) for k, v in call.path_parameters.items()},
        query=call.query,
        **({"body": _named(call.body, names)} if call.body is not None else {}),
    )
    response = case.call_and_validate(app=app, headers=node.headers(call.user), checks=CHECKS)
    assert response.status_code == call.status, response.text


def test_api__known_good_requests_cover_every_documented_operation() -> None:
    documented = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    assert documented == {(c.method, c.path) for c in KNOWN_GOOD}
