"""Real nodes and misbehaving peers on loopback, for the federation tests.

- `build_node`: a small synthetic node (one centre's submission of a simulated cohort, the demo's
  users), fast enough to build three per test module;
- `LiveServer`: a node's real app served by uvicorn in a thread, on a socket bound here (no race
  for the port);
- `Stub`: a stdlib HTTP server that answers every request one way: slow, garbage, 500, ...
  and records what it was sent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn
from joserfc.jwk import ECKey

from genomenode.access.node_issuer import NodeIssuer, load_or_create_signing_key
from genomenode.api.app import create_app
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from genomenode.simulate.cohort import generate_cohort
from genomenode.simulate.national import DATASET, _centre_sheet, add_demo_access


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with free_socket() as sock:
        port: int = sock.getsockname()[1]
    return port


def node_settings(data_dir: Path, name: str, port: int, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        beacon_id=f"{name}.test.beacon",
        organisation_id=name,
        beacon_budget=0,  # answers that do not depend on what each caller asked before
        **overrides,
    )


def build_node(settings: Settings, *, individuals: int, seed: int) -> None:
    """The demo's cohort for `seed`, of which one centre (the largest) submits, and the demo's users."""
    out = settings.data_dir / "demo-submissions"
    cohort = generate_cohort(out, individuals=individuals, seed=seed)
    centre, path = max(cohort.vcfs.items(), key=lambda kv: kv[1].stat().st_size)
    sheet = _centre_sheet(cohort.sample_sheet, centre, out)
    ingest(settings, IngestRequest(files=[path], dataset=DATASET, centre=centre, sample_sheet=sheet, command="test"))
    add_demo_access(settings)


def public_jwks(settings: Settings) -> dict[str, Any]:
    return NodeIssuer(settings.public_url, load_or_create_signing_key(settings.signing_key_path), "-").public_jwks()


def throwaway_jwks() -> tuple[ECKey, dict[str, Any]]:
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, auto_kid=True)
    return key, NodeIssuer("http://127.0.0.1:1", key, "-").public_jwks()


class LiveServer:
    """`create_app(settings)` served by uvicorn in a thread until `stop()`."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        config = uvicorn.Config(
            create_app(settings), log_level="warning", lifespan="on", ws="none", http="h11", loop="asyncio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    @property
    def url(self) -> str:
        return self.settings.public_url

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the node at {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Stub:
    """A peer that answers every request with `reply(handler)` after `delay` seconds."""

    reply: Callable[[BaseHTTPRequestHandler], None]
    delay: float = 0.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                stub.seen.append(Seen(self.path, dict(self.headers.items()), self.rfile.read(length)))
                time.sleep(stub.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the node gave up waiting
                    stub.reply(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(status: int, body: bytes, content_type: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return reply


def send_json(status: int, document: Any) -> Callable[[BaseHTTPRequestHandler], None]:
    return send(status, json.dumps(document).encode(), "application/json")


def beacon_count_answer(beacon_id: str, count: int) -> dict[str, Any]:
    """A well-formed Beacon count response, as a peer would send it."""
    return {
        "meta": {
            "beaconId": beacon_id,
            "apiVersion": "v2.1.1",
            "returnedGranularity": "count",
            "receivedRequestSummary": {
                "apiVersion": "v2.1.1",
                "requestedSchemas": [],
                "pagination": {"skip": 0, "limit": 10},
                "requestedGranularity": "count",
            },
            "returnedSchemas": [],
        },
        "responseSummary": {"exists": count > 0, "numTotalResults": count},
        "response": {
            "resultSets": [
                {"id": "cohort", "setType": "dataset", "exists": count > 0, "resultsCount": count, "results": []}
            ]
        },
    }
