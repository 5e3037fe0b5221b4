"""The portal served for real: a demo node built as `genomenode demo` builds it, uvicorn on a free
loopback port in a background thread, and Debian's chromium driven by Playwright.

The helpers (`build_portal_node`, `serving`, `launch_chromium`) are plain functions so that
scripts/screenshots.py serves the same portal the end-to-end tests check.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from genomenode.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_INDIVIDUALS = 120
E2E_SEED = 7


@dataclass(frozen=True)
class PortalNode:
    settings: Settings
    tokens: dict[str, str]  # demo user → bearer token
    url: str = ""  # http://127.0.0.1:<port> once served


def build_portal_node(data_dir: Path, *, individuals: int, seed: int = E2E_SEED) -> PortalNode:
    """What `genomenode demo` builds: the cohort, the demo users and projects, the analysed family cases."""
    from genomenode.access.gate import AccessControl
    from genomenode.cases.demo import add_demo_cases
    from genomenode.simulate.national import build_demo_node

    settings = Settings(data_dir=data_dir)
    node = build_demo_node(settings, individuals=individuals, seed=seed)
    add_demo_cases(settings, node.families)
    gate = AccessControl(settings)
    try:
        tokens = {user: gate.issue_token(issuer=settings.public_url, subject=user) for user in node.users}
    finally:
        gate.close()
    return PortalNode(settings, tokens)


@contextmanager
def serving(settings: Settings, *, timeout: float = 60.0) -> Iterator[str]:
    """The portal (`web.app.create_app`) under uvicorn on a free 127.0.0.1 port; yields its base URL."""
    import uvicorn

    from genomenode.web.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="portal-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=5) as client:
            while True:
                if not thread.is_alive():
                    raise RuntimeError(f"the portal's server at {url} stopped before answering /health")
                try:
                    if client.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the portal at {url} did not answer /health within {timeout:.0f} s")
                time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium (not a Playwright download), headless, with nothing that calls home."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def require_chromium() -> None:
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} not found: the end-to-end portal tests need Debian's chromium (scripts/install-system-deps.sh)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@dataclass
class Watch:
    """What a browser context did that a page must not: console errors, uncaught script errors, and
    requests to any host but the test server (every asset is the node's own)."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.on("console", self._console)
        context.on("weberror", lambda e: self.problems.append(f"script error: {e.error}"))
        context.on("request", self._request)
        context.on("response", self._response)

    def _console(self, message: Any) -> None:
        # a page answered 4xx on purpose (a refused case, a missing variant) is the test's to judge;
        # a failed asset or form post is caught by _response
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error on {message.page.url if message.page else '?'}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 500 or (response.status >= 400 and response.request.resource_type != "document"):
            self.problems.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "about", "blob"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.problems.append(f"request to another host: {request.method} {request.url}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Each phase's report on the item (`item.report_call`), so a fixture's teardown knows how the test went."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Module scope, not session: Playwright's sync API keeps an event loop running in the worker's main
# thread while it is open, and any later test file on that worker calling asyncio.run() would fail.
@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency (make install)")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def portal(chromium_browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalNode]:
    """One demo node for the e2e module (its tests live in one file, so one worker builds it), served."""
    with pytest.MonkeyPatch.context() as mp:  # the module outlives the autouse clean_environ
        for name in list(os.environ):
            if name.startswith("GENOMENODE_") and name not in ("GENOMENODE_GENE_MODELS_DIR", "GENOMENODE_ONTOLOGY_DIR"):
                mp.delenv(name)
        node = build_portal_node(tmp_path_factory.mktemp("portal-e2e") / "node", individuals=E2E_INDIVIDUALS)
        with serving(node.settings) as url:
            yield PortalNode(node.settings, node.tokens, url)
