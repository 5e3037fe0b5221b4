"""`create_app(settings)`: the API with the portal's pages at `/` and its assets at `/static`.

The portal is a shell like the API: its pages call the same services (NodeQueries, the access
gate, cases, PGx) with the caller from the session cookie, so suppression, region rules and the
audit log are the API's own. Pages are server-rendered HTML that works without JavaScript; the
little script there is only sorts tables in place. Nothing is fetched from the internet.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from genomenode.api import errors as api_errors
from genomenode.api.app import create_app as create_api
from genomenode.errors import ConfigurationError, GenomenodeError
from genomenode.settings import Settings
from genomenode.web.session import SignInRequired
from genomenode.web.templating import render

PAGES = ("home", "variant", "locus", "dataset", "signin", "access", "audit", "review", "pgx")
STATIC = Path(__file__).parent / "static"
# Each page's rule, like api.security.ROUTE_ACCESS: routing lets everyone in, the page decides.
# public: anyone (aggregates suppressed as for the API); signed-in: a sign-in prompt otherwise;
# the page then shows only what the caller's roles and region allow.
PORTAL_ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/search"): "public",
    ("GET", "/variant/{variant_id}"): "public",
    ("GET", "/gene/{symbol}"): "public",
    ("GET", "/region/{region}"): "public",
    ("GET", "/dataset"): "public",
    ("GET", "/dataset/{name}"): "public",
    ("GET", "/signin"): "public",
    ("POST", "/signin"): "public",
    ("POST", "/signout"): "public",
    ("GET", "/access"): "signed-in",  # a researcher's requests and form; a steward's decisions
    ("POST", "/access"): "signed-in",  # a researcher on the project (access.access_requests)
    ("POST", "/access/{request_id}/decision"): "signed-in",  # grant/refuse/revoke: a steward; withdraw: the requester
    ("GET", "/stewardship/log"): "signed-in",  # READ_AUDIT: a steward
    ("GET", "/review"): "public",  # a sign-in prompt, else the cases whose every member the caller may see
    ("GET", "/review/{case}"): "signed-in",  # as the case (cases.service): else the 404 page
    ("POST", "/review/{case}/notes"): "signed-in",  # as the case; CSRF checked (cases.notes)
    ("GET", "/person/{individual_id}/pgx"): "signed-in",  # a clinician of the region, a steward (pgx.service)
}
# Pages send this instead of the API's; inline SVG charts need no source, CSS and JS come from /static.
PORTAL_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_api(settings, index=False)
    for name in PAGES:
        try:
            module = importlib.import_module(f"genomenode.web.pages.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"genomenode.web.pages.{name}":
                raise
            continue  # a page family still being built
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    check_every_page_has_a_rule(app)
    install_error_pages(app)
    api_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        # before the first request, so no page builds the same table at the same time (~0.4 s once)
        await run_in_threadpool(_warm_gene_models)
        async with api_lifespan(app) as state:
            yield state

    app.router.lifespan_context = lifespan

    @app.middleware("http")
    async def portal_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        if response.headers.get("content-type", "").startswith("text/html") and is_portal(request):
            response.headers["Content-Security-Policy"] = PORTAL_CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["Cache-Control"] = "no-store"  # pages may hold individual-level data
        return response

    return app


def _warm_gene_models() -> None:
    """Load the gene models before the first gene page needs them (~0.3 s each, once a process)."""
    from genomenode.domain.assembly import Assembly
    from genomenode.store.genes import symbols_like
    from genomenode.store.transcripts import feature_table

    for assembly in (Assembly.GRCh38, Assembly.GRCh37):
        try:
            symbols_like(assembly, "A")
            feature_table(assembly)
        except GenomenodeError:
            continue  # not installed: the page says so when asked


def is_portal(request: Request) -> bool:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return any((method, path) in PORTAL_ACCESS for method in ("GET", "POST"))


def portal_routes(app: FastAPI) -> set[tuple[str, str]]:
    from fastapi.routing import APIRoute

    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and not route.include_in_schema
        for method in route.methods or ()
    }


def check_every_page_has_a_rule(app: FastAPI) -> None:
    from genomenode.api.security import ROUTE_ACCESS

    missing = sorted(portal_routes(app) - set(PORTAL_ACCESS) - set(ROUTE_ACCESS))
    if missing:
        shown = ", ".join(f"{m} {p}" for m, p in missing)
        raise ConfigurationError(f"portal pages without an access rule in web/app.py: {shown}")


def install_error_pages(app: FastAPI) -> None:
    """A portal page's error is a page (sign-in, 403, 404 with the message); the API's stays JSON."""
    api_domain_error = app.exception_handlers[GenomenodeError]
    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def domain_error(request: Request, exc: Exception) -> Response:
        if not is_portal(request):
            return await _call(api_domain_error, request, exc)
        if isinstance(exc, SignInRequired):
            return RedirectResponse(f"/signin?next={_quote(exc.next_path)}", status_code=303)
        assert isinstance(exc, GenomenodeError)
        status = api_errors.status_for(exc)
        return render(request, "error.html", status_code=status, status=status, message=str(exc), title="Error")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_portal(request) or (exc.status_code == 404 and _wants_html(request)):
            message = "no page here" if exc.status_code == 404 else str(exc.detail)
            return render(request, "error.html", status_code=exc.status_code, status=exc.status_code, message=message)
        return await _call(api_http_error, request, exc)

    app.add_exception_handler(GenomenodeError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    """Starlette's handler type allows sync handlers; the API's are async."""
    result = handler(request, exc)
    response: Response = await result if inspect.isawaitable(result) else result
    return response


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.method == "GET"


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
