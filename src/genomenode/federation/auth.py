"""Node-to-node authentication: short-lived tokens signed with the node's own key.

Outgoing: each federated call carries a bearer token signed (ES256) with this node's signing key
(the one behind its /.well-known/jwks.json), with `iss` this node's public URL, `sub`
`node:<beacon_id>`, `aud` the peer's audience (its base URL), a lifetime of `TOKEN_LIFETIME_S`,
and `genomenode_reach`: what this node vouches for the caller it asks on behalf of
(policy.vouched_reach: REGISTERED or PUBLIC). No user identity crosses.

Incoming: a token is verified only against the keys in the peers file, with the same checks as
any bearer token (access.identity.verify_token: algorithm allow-list, kid, expiry, audience =
this node's public URL). Nothing is fetched. A token from an unknown node, or one that does not
verify, makes the caller anonymous (PUBLIC), never an error: a federated answer is open to the
public anyway, and a misconfigured peer should get public answers, not failures. A verified peer
becomes a Caller with the PEER role and `policy.peer_reach(configured, vouched)`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from joserfc.jwk import ECKey

from genomenode.access import policy
from genomenode.access.identity import KeyStore, verify_token
from genomenode.access.node_issuer import NodeIssuer
from genomenode.errors import AuthenticationError
from genomenode.federation.peers import Peer

logger = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 60
REACH_CLAIM = "genomenode_reach"
SUBJECT_PREFIX = "node:"


class NodeSigner:
    """Signs this node's tokens for its peers, one audience each."""

    def __init__(self, *, public_url: str, node_id: str, key: ECKey) -> None:
        self.issuer = public_url.rstrip("/")
        self.subject = SUBJECT_PREFIX + node_id
        self._key = key
        self._issuers: dict[str, NodeIssuer] = {}

    def token_for(self, peer: Peer, *, vouched: policy.Level, now: float | None = None) -> str:
        issuer = self._issuers.get(peer.audience)
        if issuer is None:
            issuer = self._issuers[peer.audience] = NodeIssuer(self.issuer, self._key, peer.audience)
        return issuer.issue(self.subject, lifetime_s=TOKEN_LIFETIME_S, claims={REACH_CLAIM: vouched.name}, now=now)


class PeerVerifier:
    """Turns a peer's bearer token into a PEER caller, or the anonymous public."""

    def __init__(self, peers: Sequence[Peer], *, public_url: str) -> None:
        self.audience = public_url.rstrip("/")
        self._peers = {p.issuer: p for p in peers}
        self._keys = KeyStore([], local={p.issuer: p.keys for p in peers})

    def caller(self, authorization: str | None, *, now: float | None = None) -> policy.Caller:
        if not authorization:
            return policy.ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return policy.ANONYMOUS
        try:
            verified = verify_token(
                token.strip(), keys=self._keys, audience=self.audience, now=time.time() if now is None else now
            )
        except AuthenticationError as exc:
            logger.info("a forwarded federated request answered as PUBLIC: %s", exc)
            return policy.ANONYMOUS
        peer = self._peers[verified.issuer]  # only peers' keys are in the store
        if not verified.subject.startswith(SUBJECT_PREFIX):
            logger.info("a token of peer %s without a node subject answered as PUBLIC", peer.name)
            return policy.ANONYMOUS
        claimed = verified.claims.get(REACH_CLAIM)
        vouched = policy.Level[claimed] if isinstance(claimed, str) and claimed in policy.Level.__members__ else None
        return policy.Caller(
            issuer=verified.issuer,
            subject=verified.subject,
            roles=frozenset({policy.Role.PEER}),
            expires_at=float(verified.expires_at),
            peer_reach=policy.peer_reach(peer.reach, vouched if vouched is not None else policy.Level.PUBLIC),
        )
