"""One place maps domain errors to HTTP; every error body has the same shape.

{"error": {"type": "InvalidRegionError", "message": "...", "status": 400}}
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from genomenode.errors import (
    AccessDeniedError,
    AuditChainError,
    AuditUnavailableError,
    AuthenticationError,
    ConfigurationError,
    GenomenodeError,
    InputError,
    NotFoundError,
    RateLimitedError,
    StoreLockedError,
)

_STATUS: tuple[tuple[type[GenomenodeError], int], ...] = (
    (AuthenticationError, 401),
    (AccessDeniedError, 403),
    (RateLimitedError, 429),
    (AuditUnavailableError, 503),
    (AuditChainError, 409),
    (NotFoundError, 404),
    (InputError, 400),
    (StoreLockedError, 503),
    (ConfigurationError, 500),
)


def status_for(exc: GenomenodeError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)


def error_body(kind: str, message: str, status: int) -> dict[str, dict[str, object]]:
    return {"error": {"type": kind, "message": message, "status": status}}


def error_headers(exc: GenomenodeError) -> dict[str, str] | None:
    """What the status needs besides the body: a challenge for 401, when to retry for 429."""
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="genomenode"'}
    if isinstance(exc, RateLimitedError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(GenomenodeError)
    async def domain_error(_: Request, exc: GenomenodeError) -> JSONResponse:
        status = status_for(exc)
        headers = error_headers(exc)
        return JSONResponse(error_body(type(exc).__name__, str(exc), status), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return JSONResponse(error_body("ValidationError", details, 422), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # exc.headers carries what the status needs, e.g. the `Allow` a 405 must send (RFC 9110 §15.5.6)
        body = error_body("HTTPError", str(exc.detail), exc.status_code)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
