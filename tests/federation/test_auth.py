"""Node-to-node tokens: a peer is who its key in the peers file proves, with the reach the peers
file allows it, capped by what it vouches for its own caller; anything else is the public."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from genomenode.access import policy
from genomenode.access.policy import Level
from genomenode.federation.auth import TOKEN_LIFETIME_S, NodeSigner, PeerVerifier
from genomenode.federation.peers import make_peer
from tests.federation.nodes import throwaway_jwks

SE, DK = "http://127.0.0.1:8100", "http://127.0.0.1:8101"


def _pair(reach: str = "REGISTERED") -> tuple[NodeSigner, PeerVerifier]:
    """se's signer, and dk's verifier that lists se as a peer with `reach`."""
    key, jwks = throwaway_jwks()
    signer = NodeSigner(public_url=SE, node_id="se.beacon", key=key)
    verifier = PeerVerifier([make_peer("se", SE, jwks, reach=reach)], public_url=DK)
    return signer, verifier


@pytest.mark.parametrize("configured", ["PUBLIC", "REGISTERED", "CONTROLLED"])
@pytest.mark.parametrize("vouched", [Level.PUBLIC, Level.REGISTERED])
def test_auth__a_peers_reach_is_the_configured_one_capped_by_what_it_vouches(configured: str, vouched: Level) -> None:
    signer, verifier = _pair(configured)
    dk = make_peer("dk", DK, throwaway_jwks()[1])
    caller = verifier.caller(f"Bearer {signer.token_for(dk, vouched=vouched)}")
    assert caller.roles == {policy.Role.PEER} and caller.subject == "node:se.beacon" and caller.issuer == SE
    assert caller.peer_reach is min(Level[configured], vouched)
    # CONTROLLED in the peers file acts as REGISTERED: a node never vouches for more
    assert caller.peer_reach is not Level.CONTROLLED
    facts = policy.DatasetFacts("d", Level.CONTROLLED)
    assert policy.dataset_level(caller, facts) is caller.peer_reach
    assert policy.max_beacon_granularity(caller) == "count"


def test_auth__what_a_node_vouches_for_follows_its_callers_roles() -> None:
    def caller(*roles: policy.Role) -> policy.Caller:
        return policy.Caller(issuer="i", subject="s", roles=frozenset(roles))

    assert policy.vouched_reach(policy.ANONYMOUS) is Level.PUBLIC
    assert policy.vouched_reach(caller(policy.Role.CLINICIAN)) is Level.PUBLIC
    assert policy.vouched_reach(caller(policy.Role.REGISTERED)) is Level.REGISTERED
    assert policy.vouched_reach(caller(policy.Role.STEWARD)) is Level.REGISTERED  # grants stay home


def test_auth__a_token_that_does_not_verify_is_the_public_not_an_error() -> None:
    signer, verifier = _pair()
    dk = make_peer("dk", DK, throwaway_jwks()[1])
    other_signer = NodeSigner(public_url=SE, node_id="se.beacon", key=throwaway_jwks()[0])
    uk = make_peer("uk", "http://127.0.0.1:8102", throwaway_jwks()[1])
    expired = signer.token_for(dk, vouched=Level.REGISTERED, now=time.time() - TOKEN_LIFETIME_S - 120)
    for header in (
        None,
        "",
        "Basic c2U6c2U=",
        "Bearer ",
        "Bearer not.a.jwt",
        f"Bearer {other_signer.token_for(dk, vouched=Level.REGISTERED)}",  # se's name, another key
        f"Bearer {signer.token_for(uk, vouched=Level.REGISTERED)}",  # se's token for another node
        f"Bearer {expired}",
    ):
        assert verifier.caller(header) == policy.ANONYMOUS, header


def test_auth__a_user_token_of_a_peer_is_not_a_node_token() -> None:
    from genomenode.access.node_issuer import NodeIssuer

    key, jwks = throwaway_jwks()
    verifier = PeerVerifier([make_peer("se", SE, jwks)], public_url=DK)
    user_token = NodeIssuer(SE, key, DK).issue("alice", lifetime_s=60)  # signed by se, for dk, but a user's
    assert verifier.caller(f"Bearer {user_token}") == policy.ANONYMOUS


def test_auth__no_user_can_be_given_the_peer_role(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from genomenode.cli.main import app

    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "users", "add", "mallory", "--role", "peer"])
    assert result.exit_code == 1 and "GENOMENODE_PEERS_FILE" in result.output
