"""Federated Beacon queries across real nodes on loopback: three small national nodes (se, dk, uk)
served by uvicorn, peers that are down, slow or answer garbage, and the `federation demo` command.

Every federated answer is validated against the Beacon v2 schemas. The three nodes are built in
the layout `genomenode federation demo` uses, so the command's test reuses them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.access.node_issuer import load_or_create_signing_key
from genomenode.api.app import create_app
from genomenode.beacon.request import from_body
from genomenode.catalog import sharing
from genomenode.cli.federation import DemoNode, demo_nodes
from genomenode.federation.auth import NodeSigner, PeerVerifier
from genomenode.federation.client import FORWARDED_HEADER
from genomenode.federation.peers import Peer, make_peer, write_peers_file
from genomenode.settings import Settings
from genomenode.simulate.national import DATASET
from tests.beacon.schemas import assert_valid_response
from tests.federation.nodes import (
    LiveServer,
    Stub,
    beacon_count_answer,
    build_node,
    closed_port,
    free_socket,
    node_settings,
    public_jwks,
    send,
    send_json,
    throwaway_jwks,
)

PEOPLE = 24
GENE = {"geneId": "CYP2C19"}
COUNT = {**GENE, "requestedGranularity": "count", "includeResultsetResponses": "ALL"}
TIMEOUT, DEADLINE = 1.0, 3.0


@dataclass
class Nodes:
    demo: list[DemoNode]  # the nodes as `federation demo` lays them out (its own ports)
    port_base: int
    live: dict[str, LiveServer]  # the same data served here, each listing the other two as peers
    tokens: dict[str, dict[str, str]]  # node → user → token

    def settings(self, name: str) -> Settings:
        return self.live[name].settings

    def headers(self, node: str, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[node][user]}"} if user else {}

    def peer(self, name: str, **options: Any) -> Peer:
        s = self.settings(name)
        return make_peer(name, s.public_url, public_jwks(s), beacon_id=s.beacon_id, **options)


def _free_port_base() -> int:
    """A port with the next two free as well (the demo listens on three in a row)."""
    for _ in range(50):
        with free_socket() as first:
            base: int = first.getsockname()[1]
        if base > 65000:
            continue
        probes: list[socket.socket] = []
        try:
            for port in range(base, base + 3):
                probes.append(socket.socket())
                probes[-1].bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return base
    raise RuntimeError("no three free loopback ports in a row")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    work = tmp_path_factory.mktemp("federation")
    port_base = _free_port_base()
    demo = demo_nodes(work / "demo", port_base)
    for node in demo:  # built as the demo builds them (its users belong to the demo's URLs)
        build_node(node.settings, individuals=PEOPLE, seed=node.seed)
        node.marker.write_text(node.built_as(PEOPLE))
    sockets = {node.name: free_socket() for node in demo}
    settings = {
        node.name: node_settings(
            node.settings.data_dir,
            node.name,
            sockets[node.name].getsockname()[1],
            peers_file=work / f"peers-{node.name}.json",
            federation_timeout_seconds=TIMEOUT,
            federation_deadline_seconds=DEADLINE,
        )
        for node in demo
    }
    tokens: dict[str, dict[str, str]] = {}
    for name, s in settings.items():
        assert s.peers_file is not None
        others = [n for n in settings if n != name]
        write_peers_file(
            s.peers_file,
            [
                make_peer(o, settings[o].public_url, public_jwks(settings[o]), beacon_id=settings[o].beacon_id)
                for o in others
            ],
        )
        tokens[name] = _users(s, ("registered", "steward"))
    live = {name: LiveServer(s, sockets[name]).start() for name, s in settings.items()}
    try:
        yield Nodes(demo, port_base, live, tokens)
    finally:
        for server in live.values():
            server.stop()


def _users(settings: Settings, users: tuple[str, ...]) -> dict[str, str]:
    """Tokens for demo users, registered again under this node's URL (the issuer of its tokens)."""
    roles = {"registered": ["registered"], "steward": ["steward"]}
    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            for user in users:
                sharing.upsert_user(s, issuer=settings.public_url, subject=user, roles=roles[user])
        return {user: gate.issue_token(issuer=settings.public_url, subject=user) for user in users}
    finally:
        gate.close()


def _get(url: str, path: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{url}{path}", params=params, headers=headers or {}, timeout=30, trust_env=False)


def _nodes_of(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in answer["info"]["federation"]["nodes"]}


def _own_count(nodes: Nodes, name: str) -> int:
    """What the node answers its own registered researcher (a peer's default reach)."""
    answer = _get(nodes.live[name].url, "/api/g_variants", COUNT, nodes.headers(name, "registered"))
    assert answer.status_code == 200, answer.text
    count: int = answer.json()["responseSummary"]["numTotalResults"]
    return count


# -- the federated answer ---------------------------------------------------------------------
def test_federated__sums_the_nodes_counts_and_tags_each_result_set_with_its_node(nodes: Nodes) -> None:
    se = nodes.live["se"]
    response = _get(se.url, "/api/federated/g_variants", COUNT, nodes.headers("se", "registered"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid_response(answer, "count")

    own = {name: _own_count(nodes, name) for name in nodes.live}
    by_node = _nodes_of(answer)
    assert list(by_node) == ["se", "dk", "uk"]  # this node first, then its peers
    assert {n: (v["status"], v["count"]) for n, v in by_node.items()} == {n: ("ok", c) for n, c in own.items()}
    assert answer["responseSummary"]["numTotalResults"] == sum(own.values()) > 0
    assert answer["meta"]["beaconId"] == nodes.settings("se").beacon_id
    sets = answer["response"]["resultSets"]
    assert {s["id"] for s in sets} == {f"{nodes.settings(n).beacon_id}:{DATASET}" for n in nodes.live}
    for s in sets:
        assert s["info"]["beaconId"] == nodes.settings(s["info"]["node"]).beacon_id
        assert s["resultsCount"] == own[s["info"]["node"]]


def test_federated__records_come_from_this_node_only_peers_send_counts(nodes: Nodes) -> None:
    params = {**GENE, "requestedGranularity": "record", "includeResultsetResponses": "ALL"}
    response = _get(nodes.live["se"].url, "/api/federated/g_variants", params, nodes.headers("se", "steward"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid_response(answer, "record", "g_variants")
    assert answer["meta"]["returnedGranularity"] == "record"
    by_node = {s["info"]["node"]: s for s in answer["response"]["resultSets"]}
    assert by_node["se"]["results"], "the steward sees this node's records"
    for peer in ("dk", "uk"):
        assert by_node[peer]["results"] == [] and by_node[peer]["info"]["granularity"] == "count"
        assert _nodes_of(answer)[peer]["granularity"] == "count"


def test_federated__an_anonymous_user_gets_public_answers_from_every_node(nodes: Nodes) -> None:
    # GIVEN datasets at CONTROLLED (the demo's): the public gets yes/no, and so does a peer asking for it
    response = _get(nodes.live["se"].url, "/api/federated/g_variants", COUNT)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid_response(answer, "boolean")
    assert answer["meta"]["returnedGranularity"] == "boolean"
    assert "numTotalResults" not in answer["responseSummary"]
    assert {n["status"] for n in _nodes_of(answer).values()} == {"ok"}
    assert all(n["granularity"] == "boolean" and "count" not in n for n in _nodes_of(answer).values())


def test_federated__individuals_are_counted_by_every_node_and_summed(nodes: Nodes) -> None:
    params = {"requestedGranularity": "count", "includeResultsetResponses": "ALL"}
    response = _get(nodes.live["se"].url, "/api/federated/individuals", params, nodes.headers("se", "registered"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid_response(answer, "count")
    own = {}
    for name, server in nodes.live.items():
        direct = _get(server.url, "/api/individuals", params, nodes.headers(name, "registered"))
        assert direct.status_code == 200, direct.text
        own[name] = direct.json()["responseSummary"]["numTotalResults"]
    assert {n: v.get("count") for n, v in _nodes_of(answer).items()} == own
    assert answer["responseSummary"]["numTotalResults"] == sum(own.values()) > 0


def test_federated__a_request_no_node_can_answer_is_a_400_beacon_error(nodes: Nodes) -> None:
    response = _get(nodes.live["se"].url, "/api/federated/g_variants", {"requestedGranularity": "count"})
    assert response.status_code == 400, response.text
    assert_valid_response(response.json(), "error")
    assert "variant parameters" in response.json()["error"]["errorMessage"]


# -- peers that fail --------------------------------------------------------------------------
def test_federated__down_slow_and_garbage_peers_are_reported_while_the_others_answer(
    nodes: Nodes, tmp_path: Path
) -> None:
    # GIVEN se asking dk (up) and seven peers that each fail another way
    other = "someone-else.test.beacon"
    stubs = {
        "slow": Stub(send_json(200, beacon_count_answer("slow.test.beacon", 3)), delay=10 * TIMEOUT),
        "html": Stub(send(200, b"<html><body>Welcome</body></html>", "text/html")),
        "not-json": Stub(send(200, b'{"meta": {"beaconId": ', "application/json")),
        "wrong-shape": Stub(send_json(200, {"beacon": "yes", "count": 12})),
        "negative": Stub(send_json(200, beacon_count_answer("negative.test.beacon", -4))),
        "impostor": Stub(send_json(200, beacon_count_answer(other, 9))),
        "crashing": Stub(send(500, b"Internal Server Error", "text/plain")),
    }
    _, jwks = throwaway_jwks()
    peers = [
        nodes.peer("dk"),
        make_peer("down", f"http://127.0.0.1:{closed_port()}", jwks),
        *(make_peer(name, stub.url, jwks, beacon_id=f"{name}.test.beacon") for name, stub in stubs.items()),
    ]
    write_peers_file(tmp_path / "peers.json", peers)
    settings = nodes.settings("se").model_copy(update={"peers_file": tmp_path / "peers.json"})
    try:
        with TestClient(create_app(settings)) as client:
            started = time.monotonic()
            response = client.get("/api/federated/g_variants", params=COUNT, headers=nodes.headers("se", "registered"))
            took = time.monotonic() - started
    finally:
        for stub in stubs.values():
            stub.stop()

    # THEN the answer comes, with each peer's failure named, within the per-peer timeout
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid_response(answer, "count")
    status = {name: n["status"] for name, n in _nodes_of(answer).items()}
    assert status == {
        "se": "ok",
        "dk": "ok",
        "down": "unreachable",
        "slow": "timeout",
        "html": "invalid",
        "not-json": "invalid",
        "wrong-shape": "invalid",
        "negative": "invalid",
        "impostor": "invalid",
        "crashing": "error",
    }
    errors = {name: n.get("error", "") for name, n in _nodes_of(answer).items()}
    assert "text/html" in errors["html"] and "HTTP 500" in errors["crashing"] and other in errors["impostor"]
    assert answer["responseSummary"]["numTotalResults"] == _own_count(nodes, "se") + _own_count(nodes, "dk")
    assert {s["info"]["node"] for s in answer["response"]["resultSets"]} == {"se", "dk"}
    assert took < DEADLINE + 1.5, f"the slow peer held the answer for {took:.1f} s"


def test_federated__the_deadline_bounds_the_wait_for_all_peers_together(nodes: Nodes, tmp_path: Path) -> None:
    # GIVEN two peers taking 10 s, allowed 5 s each, and a 1.5 s deadline for the whole query
    stubs = [Stub(send_json(200, beacon_count_answer(f"s{i}.test.beacon", 1)), delay=10.0) for i in range(2)]
    _, jwks = throwaway_jwks()
    peers = [make_peer(f"s{i}", s.url, jwks, timeout_seconds=5.0) for i, s in enumerate(stubs)]
    write_peers_file(tmp_path / "peers.json", peers)
    settings = nodes.settings("se").model_copy(
        update={"peers_file": tmp_path / "peers.json", "federation_deadline_seconds": 1.5}
    )
    try:
        with TestClient(create_app(settings)) as client:
            started = time.monotonic()
            response = client.get("/api/federated/g_variants", params=COUNT)
            took = time.monotonic() - started
    finally:
        for stub in stubs:
            stub.stop()
    assert response.status_code == 200, response.text
    assert [n["status"] for n in response.json()["info"]["federation"]["nodes"]] == ["ok", "timeout", "timeout"]
    assert took < 3.5, f"the answer took {took:.1f} s"


# -- node-to-node calls -----------------------------------------------------------------------
def test_forwarded__a_request_from_a_peer_is_answered_locally_and_not_sent_on(nodes: Nodes, tmp_path: Path) -> None:
    # GIVEN se with one peer that records what it is sent
    stub = Stub(send_json(200, beacon_count_answer("rec.test.beacon", 2)))
    _, jwks = throwaway_jwks()
    write_peers_file(tmp_path / "peers.json", [make_peer("rec", stub.url, jwks)])
    se = nodes.settings("se").model_copy(update={"peers_file": tmp_path / "peers.json"})
    try:
        with TestClient(create_app(se)) as client:
            forwarded = client.get("/api/federated/g_variants", params=COUNT, headers={FORWARDED_HEADER: "x.beacon"})
            assert stub.seen == []  # WHEN forwarded: answered here, nothing sent on
            asked = client.get("/api/federated/g_variants", params=COUNT, headers=nodes.headers("se", "registered"))
    finally:
        stub.stop()
    assert forwarded.status_code == 200 and "info" not in forwarded.json()  # a plain Beacon answer
    assert_valid_response(forwarded.json(), "boolean")
    assert asked.status_code == 200 and len(stub.seen) == 1

    # THEN the peer was sent a forwarded, signed, canonical request, vouching for a registered researcher
    seen = stub.seen[0]
    assert seen.path == "/api/federated/g_variants"
    assert seen.headers[FORWARDED_HEADER] == se.beacon_id
    verifier = PeerVerifier([make_peer("se", se.public_url, public_jwks(se))], public_url=stub.url)
    caller = verifier.caller(seen.headers["Authorization"])
    assert caller.has(policy.Role.PEER) and caller.peer_reach is policy.Level.REGISTERED
    assert caller.subject == f"node:{se.beacon_id}"
    body = from_body("g_variants", json.loads(seen.body))
    assert body.variant.gene_id == "CYP2C19" and body.granularity.value == "count"


def _forwarded(nodes: Nodes, to: str, token: str | None, **params: Any) -> dict[str, Any]:
    headers = {FORWARDED_HEADER: "some.beacon", **({"Authorization": f"Bearer {token}"} if token else {})}
    response = _get(nodes.live[to].url, "/api/federated/g_variants", {**COUNT, **params}, headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "info" not in answer or "federation" not in answer["info"]  # never fanned out again
    return answer


def _forged(iss: str, aud: str, key: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": iss,
        "sub": "node:forged",
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "genomenode_reach": "REGISTERED",
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def test_forwarded__an_unknown_or_unverifiable_node_gets_public_answers_only(nodes: Nodes) -> None:
    se, dk = nodes.settings("se"), nodes.settings("dk")
    signer = NodeSigner(
        public_url=se.public_url, node_id=se.beacon_id, key=load_or_create_signing_key(se.signing_key_path)
    )
    stranger_key, _ = throwaway_jwks()
    tokens = {
        "no token": None,
        "unknown node": _forged("http://127.0.0.1:9", dk.public_url, stranger_key),
        "se's name, another key": _forged(se.public_url, dk.public_url, stranger_key),
        "se's token for uk": signer.token_for(nodes.peer("uk"), vouched=policy.Level.REGISTERED),
        "se vouching for the public": signer.token_for(nodes.peer("dk"), vouched=policy.Level.PUBLIC),
        "not a JWT": "garbage",
    }
    for what, token in tokens.items():
        answer = _forwarded(nodes, "dk", token)
        assert answer["meta"]["returnedGranularity"] == "boolean", what
        assert_valid_response(answer, "boolean")

    # while se itself, vouching for a registered researcher, gets counts
    answer = _forwarded(nodes, "dk", signer.token_for(nodes.peer("dk"), vouched=policy.Level.REGISTERED))
    assert answer["meta"]["returnedGranularity"] == "count"
    assert answer["responseSummary"]["numTotalResults"] == _own_count(nodes, "dk")


def test_forwarded__a_peer_gets_counts_never_records(nodes: Nodes) -> None:
    se = nodes.settings("se")
    signer = NodeSigner(
        public_url=se.public_url, node_id=se.beacon_id, key=load_or_create_signing_key(se.signing_key_path)
    )
    token = signer.token_for(nodes.peer("dk"), vouched=policy.Level.REGISTERED)
    answer = _forwarded(nodes, "dk", token, requestedGranularity="record")
    assert answer["meta"]["returnedGranularity"] == "count"
    assert all(s["results"] == [] for s in answer["response"]["resultSets"])


def test_forwarded__a_users_bad_token_on_a_direct_request_is_still_refused(nodes: Nodes) -> None:
    response = _get(nodes.live["se"].url, "/api/federated/g_variants", COUNT, {"Authorization": "Bearer garbage"})
    assert response.status_code == 401


# -- the demo command -------------------------------------------------------------------------
def test_federation_demo__serves_three_nodes_and_prints_each_nodes_count_and_the_sum(nodes: Nodes) -> None:
    # GIVEN the three nodes already built in the demo's layout (the command reuses them)
    work = nodes.demo[0].settings.data_dir.parent
    command = [sys.executable, "-m", "genomenode.cli", "federation", "demo", "--once"]
    command += ["--people", str(PEOPLE), "--port-base", str(nodes.port_base), "--work-dir", str(work)]
    env = {**os.environ, "GENOMENODE_BEACON_BUDGET": "0", "COLUMNS": "200"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.count("reusing the cohort") == 3

    rows = dict(re.findall(r"│ (se|dk|uk)\s+│ \S+\s+│ ok\s+│\s+(\d+) │", done.stdout))
    assert rows == {name: str(_own_count(nodes, name)) for name in ("se", "dk", "uk")}, done.stdout
    total = re.search(r"federated total: (\d+) variants", done.stdout)
    assert total and int(total.group(1)) == sum(int(c) for c in rows.values())
    assert f"curl -s 'http://127.0.0.1:{nodes.port_base}/api/federated/g_variants?geneId=CYP2C19'" in done.stdout
