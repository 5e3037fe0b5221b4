"""The node's own issuer: a private key only the node can read, real signed tokens, public JWKS only."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from genomenode.access.identity import KeyStore, verify_token
from genomenode.access.node_issuer import NodeIssuer, load_or_create_signing_key
from genomenode.errors import AuthenticationError, ConfigurationError

NOW = 1_750_000_000
NODE = "https://node.example"
AUDIENCE = "genomenode"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


@pytest.fixture
def issuer(tmp_path: Path) -> NodeIssuer:
    return NodeIssuer(NODE, load_or_create_signing_key(tmp_path / "secrets" / "token-signing.jwk"), AUDIENCE)


def node_keys(issuer: NodeIssuer) -> KeyStore:
    return KeyStore([], local={issuer.issuer: issuer.keyset()})


def test_signing_key__created_once_readable_only_by_the_node(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "token-signing.jwk"
    key = load_or_create_signing_key(path)
    again = load_or_create_signing_key(path)
    assert again.as_dict(private=True) == key.as_dict(private=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key.curve_name == "P-256" and key.is_private
    assert key.kid == key.thumbprint()  # RFC 7638
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_signing_key__readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "token-signing.jwk"
    load_or_create_signing_key(path)
    path.chmod(mode)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_signing_key(path)


@pytest.mark.parametrize("content", ["not json", "{}", json.dumps(ECKey.generate_key("P-256").as_dict(private=False))])
def test_signing_key__unreadable_or_public_only_file_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "token-signing.jwk"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="backup"):
        load_or_create_signing_key(path)


def test_node_issuer__round_trip_through_the_same_verifier_as_any_issuer(issuer: NodeIssuer) -> None:
    token = issuer.issue("alice", lifetime_s=3600, claims={"name": "Alice"}, now=NOW)
    verified = verify_token(token, keys=node_keys(issuer), audience=AUDIENCE, now=NOW + 60)
    assert (verified.issuer, verified.subject, verified.audience) == (NODE, "alice", (AUDIENCE,))
    assert verified.expires_at == NOW + 3600 and verified.issued_at == NOW
    assert verified.claims["nbf"] == NOW and verified.claims["name"] == "Alice"
    assert len(verified.claims["jti"]) >= 16


def test_node_issuer__tokens_expire_after_their_lifetime(issuer: NodeIssuer) -> None:
    token = issuer.issue("alice", lifetime_s=60, now=NOW)
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token(token, keys=node_keys(issuer), audience=AUDIENCE, now=NOW + 60 + 31)


def test_node_issuer__every_token_has_its_own_jti(issuer: NodeIssuer) -> None:
    tokens = [issuer.issue("alice", lifetime_s=60, now=NOW) for _ in range(20)]
    keys = node_keys(issuer)
    jtis = {verify_token(t, keys=keys, audience=AUDIENCE, now=NOW).claims["jti"] for t in tokens}
    assert len(jtis) == 20


def test_node_issuer__public_jwks_has_no_private_members(issuer: NodeIssuer) -> None:
    document = issuer.public_jwks()
    (key,) = document["keys"]
    assert "d" not in key and not PRIVATE_MEMBERS & set(key)
    assert key["kid"] == issuer.kid and key["alg"] == "ES256" and key["use"] == "sig"
    assert '"d"' not in json.dumps(document)
    assert all(not k.is_private for k in issuer.keyset())


def test_node_issuer__a_token_from_another_key_with_the_nodes_kid_is_refused(issuer: NodeIssuer) -> None:
    impostor = NodeIssuer(NODE, ECKey.generate_key("P-256", parameters={"kid": issuer.kid}), AUDIENCE)
    token = impostor.issue("admin", lifetime_s=60, now=NOW)
    with pytest.raises(AuthenticationError, match="signature"):
        verify_token(token, keys=node_keys(issuer), audience=AUDIENCE, now=NOW)


def test_node_issuer__extra_claims_cannot_override_the_registered_ones(issuer: NodeIssuer) -> None:
    for claim in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti"):
        with pytest.raises(ValueError, match=claim):
            issuer.issue("alice", lifetime_s=60, claims={claim: "x"})
    with pytest.raises(ValueError, match="lifetime"):
        issuer.issue("alice", lifetime_s=0)


def test_node_issuer__needs_the_private_key() -> None:
    public = ECKey.import_key(ECKey.generate_key("P-256").as_dict(private=False))
    with pytest.raises(ConfigurationError, match="private"):
        NodeIssuer(NODE, public, AUDIENCE)
