"""Tokens at the API's door: bad ones are refused with 401, and the audit log gates individual data."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from genomenode.access.node_issuer import NodeIssuer, load_or_create_signing_key
from genomenode.api.app import create_app
from tests.secure_node import SecureNode, build_secure_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("auth") / "node", individuals=40, seed=2)


@pytest.fixture(scope="module")
def client(node: SecureNode) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as c:
        yield c


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _issuer(node: SecureNode, *, audience: str | None = None, issuer: str | None = None) -> NodeIssuer:
    s = node.settings
    return NodeIssuer(
        issuer or s.public_url, load_or_create_signing_key(s.signing_key_path), audience or s.token_audience
    )


def _status(client: TestClient, token: str) -> tuple[int, str]:
    r = client.get("/individuals", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, r.json()["error"]["type"] if r.status_code != 200 else ""


def test_auth__a_valid_token_is_accepted(client: TestClient, node: SecureNode) -> None:
    assert _status(client, node.tokens["steward"]) == (200, "")


def test_auth__expired_token_is_refused(client: TestClient, node: SecureNode) -> None:
    token = _issuer(node).issue("steward", lifetime_s=60, now=time.time() - 3600)
    assert _status(client, token) == (401, "AuthenticationError")


def test_auth__wrong_audience_is_refused(client: TestClient, node: SecureNode) -> None:
    assert _status(client, _issuer(node, audience="another-service").issue("steward", lifetime_s=60)) == (
        401,
        "AuthenticationError",
    )


def test_auth__wrong_issuer_is_refused(client: TestClient, node: SecureNode) -> None:
    token = _issuer(node, issuer="https://evil.example").issue("steward", lifetime_s=60)
    assert _status(client, token) == (401, "AuthenticationError")


def test_auth__alg_none_is_refused(client: TestClient, node: SecureNode) -> None:
    claims = {"iss": node.settings.public_url, "sub": "steward", "aud": "genomenode", "exp": time.time() + 60}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert _status(client, token) == (401, "AuthenticationError")


def test_auth__tampered_signature_is_refused(client: TestClient, node: SecureNode) -> None:
    header, payload, signature = node.tokens["registered"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "steward"  # promote ourselves
    assert _status(client, f"{header}.{_b64(claims)}.{signature}") == (401, "AuthenticationError")


def test_auth__a_token_for_an_unknown_user_gets_no_role(client: TestClient, node: SecureNode) -> None:
    token = _issuer(node).issue("nobody", lifetime_s=60)
    r = client.get("/audit/verify", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_auth__malformed_header_is_refused(client: TestClient) -> None:
    r = client.get("/individuals", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401


def test_auth__an_unwritable_audit_log_stops_individual_reads_and_sends_nothing(
    client: TestClient, node: SecureNode
) -> None:
    # GIVEN the audit log cannot be written (its path taken by a folder)
    log = node.settings.audit_log_path
    saved = log.read_bytes()
    log.unlink()
    log.mkdir()
    try:
        r = client.get(
            f"/individuals/{node.stockholm.pseudonym}/genotypes",
            params={"gene": "CYP2C19"},
            headers=node.headers("steward"),
        )
        # THEN 503 and the body carries no individual-level data
        assert r.status_code == 503, r.text
        assert set(r.json()) == {"error"} and node.stockholm.pseudonym not in r.text
    finally:
        log.rmdir()
        log.write_bytes(saved)
