"""`genomenode federation demo`: three national nodes on loopback, each with its own synthetic
cohort, that know each other as peers; one federated query across them.

A thin shell: each node is built by the same `genomenode demo` command (run for the three at
once, each in its own process), served by `genomenode serve`, and configured only through its
GENOMENODE_* settings and a peers file naming the other two with their public keys.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from genomenode.errors import ConfigurationError, GenomenodeError
from genomenode.settings import Settings

federation_app = typer.Typer(help="Federated queries across national nodes.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

#: (short name, seed, name of the organisation running it): different seeds give different cohorts
DEMO_NODES: tuple[tuple[str, int, str], ...] = (
    ("se", 7, "Genomic Medicine Sweden (synthetic demo)"),
    ("dk", 8, "Danish National Genome Center (synthetic demo)"),
    ("uk", 9, "Genomics England (synthetic demo)"),
)
DEMO_GENE = "CYP2C19"
DEMO_USER = "registered"  # a registered researcher of the first node: counts from every node


@dataclass(frozen=True)
class DemoNode:
    name: str
    seed: int
    settings: Settings
    port: int

    @property
    def url(self) -> str:
        return self.settings.public_url

    @property
    def marker(self) -> Path:
        """Written once the node is built; holds `built_as` of the build."""
        return self.settings.data_dir / "demo-built"

    def built_as(self, people: int) -> str:
        """What a build depends on: a node built alike is reused (users belong to its URL)."""
        return f"{people} people, seed {self.seed}, {self.url}\n"

    def env(self) -> dict[str, str]:
        """The settings a child process reads (everything else as in this shell)."""
        s = self.settings
        values = {
            "DATA_DIR": str(s.data_dir),
            "PUBLIC_URL": s.public_url,
            "BEACON_ID": s.beacon_id,
            "BEACON_NAME": s.beacon_name,
            "ORGANISATION_ID": s.organisation_id,
            "ORGANISATION_NAME": s.organisation_name,
            "PEERS_FILE": str(s.peers_file),
        }
        return {**os.environ, **{f"GENOMENODE_{k}": v for k, v in values.items()}}


def demo_nodes(work_dir: Path, port_base: int) -> list[DemoNode]:
    nodes = []
    for i, (name, seed, organisation) in enumerate(DEMO_NODES):
        port = port_base + i
        data_dir = (work_dir / name).resolve()
        settings = Settings(
            data_dir=data_dir,
            public_url=f"http://127.0.0.1:{port}",
            beacon_id=f"{name}.genomenode.beacon",
            beacon_name=f"genomenode {name.upper()} (synthetic demo)",
            organisation_id=name,
            organisation_name=organisation,
            peers_file=data_dir / "peers.json",
        )
        nodes.append(DemoNode(name, seed, settings, port))
    return nodes


@federation_app.command("demo")
def demo(
    port_base: Annotated[int, typer.Option(help="The nodes listen on this port and the next two (127.0.0.1).")] = 8100,
    people: Annotated[int, typer.Option(min=10, help="People in each node's synthetic cohort.")] = 200,
    work_dir: Annotated[
        Path, typer.Option(help="Where the three nodes' data live; kept, and reused when built alike.")
    ] = Path("genomenode-federation"),
    once: Annotated[bool, typer.Option("--once", help="Stop the nodes after the query (for scripts and CI).")] = False,
) -> None:
    """Build three demo nodes (se, dk, uk), serve them on loopback as each other's peers, and run
    one federated query; keeps serving until Ctrl-C unless --once."""
    nodes = demo_nodes(work_dir, port_base)
    servers: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # `kill` stops the nodes too, as Ctrl-C does
    try:
        _check_ports_free(nodes)
        _build(nodes, people)
        _write_peers_files(nodes)
        _serve(nodes, servers)
        token = _token(nodes[0].settings, DEMO_USER)
        _show(nodes, _query(nodes[0].url, token), token)
        if not once:
            _wait(servers)
    except GenomenodeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        _stop(servers)  # on every way out: Ctrl-C, --once, an error, a closed stdout


# -- steps ------------------------------------------------------------------------------------
def _check_ports_free(nodes: list[DemoNode]) -> None:
    for node in nodes:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", node.port))
            except OSError:
                raise ConfigurationError(
                    f"port {node.port} on 127.0.0.1 is in use; stop what holds it or pick another --port-base"
                ) from None


def _build(nodes: list[DemoNode], people: int) -> None:
    """Run `genomenode demo` for every node not yet built with these settings, all at once."""
    running: list[tuple[DemoNode, subprocess.Popen[bytes]]] = []
    for node in nodes:
        if node.marker.exists() and node.marker.read_text() == node.built_as(people):
            err.print(f"{node.name}: reusing the cohort in {node.settings.data_dir}")
            continue
        shutil.rmtree(node.settings.data_dir, ignore_errors=True)
        node.settings.data_dir.mkdir(parents=True)
        err.print(f"{node.name}: simulating and ingesting {people} people (seed {node.seed})")
        command = [sys.executable, "-m", "genomenode.cli", "demo", "--individuals", str(people)]
        command += ["--seed", str(node.seed)]
        with (node.settings.data_dir / "build.log").open("wb") as log:  # the child keeps its own handle
            running.append((node, subprocess.Popen(command, env=node.env(), stdout=log, stderr=subprocess.STDOUT)))
    failed = []
    for node, process in running:
        if process.wait() == 0:
            node.marker.write_text(node.built_as(people))
        else:
            failed.append(f"{node.name} (see {node.settings.data_dir / 'build.log'})")
    if failed:
        raise ConfigurationError(f"building the demo node(s) {', '.join(failed)} failed")


def _write_peers_files(nodes: list[DemoNode]) -> None:
    """Each node's peers file: the other two, with the public keys their JWKS would serve."""
    from genomenode.access.node_issuer import NodeIssuer, load_or_create_signing_key
    from genomenode.federation.peers import make_peer, write_peers_file

    jwks = {
        node.name: NodeIssuer(node.url, load_or_create_signing_key(node.settings.signing_key_path), "-").public_jwks()
        for node in nodes
    }
    for node in nodes:
        assert node.settings.peers_file is not None
        peers = [
            make_peer(other.name, other.url, jwks[other.name], beacon_id=other.settings.beacon_id)
            for other in nodes
            if other is not node
        ]
        write_peers_file(node.settings.peers_file, peers)


def _serve(nodes: list[DemoNode], servers: list[subprocess.Popen[bytes]]) -> None:
    """Start `genomenode serve` for each node (added to `servers` at once) and wait until all answer."""
    for node in nodes:
        command = [sys.executable, "-m", "genomenode.cli", "serve", "--host", "127.0.0.1", "--port", str(node.port)]
        with (node.settings.data_dir / "serve.log").open("wb") as log:  # the child keeps its own handle
            servers.append(subprocess.Popen(command, env=node.env(), stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    for node, server in zip(nodes, servers, strict=True):
        while not _healthy(node.url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ConfigurationError(
                    f"node {node.name} did not start on {node.url}; see {node.settings.data_dir / 'serve.log'}"
                )
            time.sleep(0.2)
        err.print(f"{node.name}: serving {node.url} (peers: {node.settings.peers_file})")


def _wait(servers: list[subprocess.Popen[bytes]]) -> None:
    """Until Ctrl-C, or until a node stops by itself."""
    err.print("serving the three nodes; Ctrl-C stops them")
    try:
        while all(s.poll() is None for s in servers):
            time.sleep(0.5)
        err.print("[red]a node stopped[/red]; see its serve.log")
    except KeyboardInterrupt:
        pass


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _token(settings: Settings, user: str) -> str:
    from genomenode.access.gate import AccessControl

    gate = AccessControl(settings)
    try:
        return gate.issue_token(issuer=settings.public_url, subject=user)
    finally:
        gate.close()


def _query(url: str, token: str) -> dict[str, Any]:
    import httpx

    params = {"geneId": DEMO_GENE, "requestedGranularity": "count"}
    response = httpx.get(
        f"{url}/api/federated/g_variants",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        trust_env=False,
    )
    if response.status_code != 200:
        raise ConfigurationError(f"the federated query failed: HTTP {response.status_code} {response.text[:300]}")
    answer: dict[str, Any] = response.json()
    return answer


def _show(nodes: list[DemoNode], answer: dict[str, Any], token: str) -> None:
    first = nodes[0]
    table = Table(title=f"variants in {DEMO_GENE}, asked at {first.name} ({first.url}) as a registered researcher")
    for column in ("node", "beaconId", "status", "variants", "ms"):
        table.add_column(column, justify="right" if column in ("variants", "ms") else "left")
    for node in answer["info"]["federation"]["nodes"]:
        count = node.get("count")
        table.add_row(
            node["name"],
            node.get("beaconId") or "",
            node["status"] if node["status"] == "ok" else f"{node['status']}: {node.get('error', '')}",
            "" if count is None else str(count),
            str(node["elapsedMs"]),
        )
    out.print(table)
    total = answer["responseSummary"].get("numTotalResults")
    out.print(f"federated total: {total} variants in {DEMO_GENE} across {len(nodes)} nodes")
    out.print("\ntry (anonymous: yes/no per node):", highlight=False)
    out.print(f"  curl -s '{first.url}/api/federated/g_variants?geneId={DEMO_GENE}'", highlight=False, soft_wrap=True)
    out.print("as the registered researcher (counts per node):", highlight=False)
    out.print(f"  TOKEN={token}", highlight=False, soft_wrap=True)
    out.print(
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"'{first.url}/api/federated/g_variants?geneId={DEMO_GENE}&requestedGranularity=count'",
        highlight=False,
        soft_wrap=True,
    )


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        if server.poll() is None:
            server.terminate()  # uvicorn shuts down cleanly on SIGTERM
    for server in servers:
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def install(app: typer.Typer) -> None:
    app.add_typer(federation_app, name="federation")
