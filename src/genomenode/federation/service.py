"""Federation: one Beacon request answered by this node and every peer at once.

`query` runs the local answer (in a worker thread) while the peers are asked (client.fan_out),
then merges them (aggregate.merge). The local node is one of the nodes: its failure is reported
like a peer's, except that a request no node could answer because the request itself is wrong
(the local node refuses it as bad input and no peer answered) is that 400, not an empty answer.

A request that arrives forwarded from a peer is answered locally only (`forwarded_request` caps
it at what a peer may get); the API layer decides which case it is from FORWARDED_HEADER.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from genomenode.access import policy
from genomenode.access.node_issuer import load_or_create_signing_key
from genomenode.beacon.framework import BeaconIdentity
from genomenode.beacon.request import BeaconRequest, Granularity
from genomenode.errors import GenomenodeError, InputError, NotFoundError
from genomenode.federation.aggregate import merge
from genomenode.federation.answers import InvalidAnswer, NodeAnswer, failed, read_answer
from genomenode.federation.auth import NodeSigner, PeerVerifier
from genomenode.federation.client import fan_out, request_body
from genomenode.federation.peers import Peer
from genomenode.settings import Settings

logger = logging.getLogger(__name__)

LocalAnswer = Callable[[], dict[str, Any]]


class Federation:
    def __init__(
        self,
        *,
        identity: BeaconIdentity,
        name: str,
        peers: Sequence[Peer],
        signer: NodeSigner,
        timeout: float,
        deadline: float,
    ) -> None:
        self.identity = identity
        self.name = name
        self.peers = tuple(peers)
        self.signer = signer
        self.verifier = PeerVerifier(self.peers, public_url=identity.public_url)
        self.timeout = timeout
        self.deadline = deadline

    @classmethod
    def from_settings(cls, settings: Settings, identity: BeaconIdentity, peers: Sequence[Peer]) -> Federation:
        """The node's federation: its peers, its own signing key, its timeouts."""
        key = load_or_create_signing_key(settings.signing_key_path)
        return cls(
            identity=identity,
            name=settings.organisation_id,
            peers=peers,
            signer=NodeSigner(public_url=settings.public_url, node_id=settings.beacon_id, key=key),
            timeout=settings.federation_timeout_seconds,
            deadline=settings.federation_deadline_seconds,
        )

    def peer_caller(self, authorization: str | None) -> policy.Caller:
        """The caller of a forwarded request: a verified peer, else the anonymous public."""
        return self.verifier.caller(authorization)

    @staticmethod
    def forwarded_request(caller: policy.Caller, request: BeaconRequest) -> BeaconRequest:
        """`request` as this node answers it for `caller` when it was forwarded: no more than
        policy.max_beacon_granularity allows (counts for a peer)."""
        cap = Granularity(policy.max_beacon_granularity(caller))
        return replace(request, granularity=request.granularity.at_most(cap))

    async def query(self, caller: policy.Caller, request: BeaconRequest, *, local: LocalAnswer) -> dict[str, Any]:
        """The merged answer of this node (`local`, run in a thread) and every peer."""
        vouched = policy.vouched_reach(caller)
        (local_answer, local_error), peer_answers = await asyncio.gather(
            self._local(local),
            fan_out(
                self.peers,
                entry=request.entry_type,
                body=request_body(request),
                token_for=lambda peer: self.signer.token_for(peer, vouched=vouched),
                forwarded_by=self.identity.beacon_id,
                timeout=self.timeout,
                deadline=self.deadline,
            ),
        )
        if local_error is not None and not any(a.ok for a in peer_answers):
            raise local_error  # the request itself is wrong: say so, as the node alone would
        answers = [local_answer, *peer_answers]
        logger.info(
            "federated %s: %s",
            request.entry_type,
            ", ".join(f"{a.name} {a.status} {a.elapsed_ms} ms" for a in answers),
        )
        return merge(self.identity, request, answers)

    async def _local(self, local: LocalAnswer) -> tuple[NodeAnswer, GenomenodeError | None]:
        """This node's answer, and the bad-request error to raise if no peer answers either."""
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        beacon_id = self.identity.beacon_id
        try:
            document = await asyncio.to_thread(local)
        except GenomenodeError as exc:
            bad_request = exc if isinstance(exc, InputError | NotFoundError) else None
            return failed(self.name, beacon_id, "error", str(exc), elapsed_ms=elapsed()), bad_request
        try:
            return read_answer(self.name, document, elapsed_ms=elapsed(), beacon_id=beacon_id), None
        except InvalidAnswer as exc:  # a bug here, not a peer's: keep the answer going, log loudly
            logger.error("this node's own Beacon answer does not check: %s", exc)
            return failed(self.name, beacon_id, "invalid", str(exc), elapsed_ms=elapsed()), None
