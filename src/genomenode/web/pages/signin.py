"""Sign-in with a node token, sign-out; both audited like any other act on the node."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from genomenode.access import policy
from genomenode.errors import AuthenticationError
from genomenode.web.session import (
    SESSION_COOKIE,
    CsrfChecked,
    PortalCaller,
    gate_of,
    safe_next,
    session_seconds,
)
from genomenode.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_TOKEN_CHARS = 16_384


@router.get("/signin")
async def signin_form(request: Request, next: str = "/") -> Response:
    return render(request, "signin.html", title="Sign in", next=safe_next(next), error=None)


@router.post("/signin")
async def signin(
    request: Request, _: CsrfChecked, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    gate = gate_of(request)
    token = token.strip()
    try:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("paste the whole token (three dot-separated parts)")
        caller = await run_in_threadpool(gate.caller_for_token, token)
    except AuthenticationError as exc:
        # who tried is unknown and the token is a secret: the entry says only that it failed
        gate.record(policy.ANONYMOUS, "portal.signin", target="portal", outcome="denied")
        return render(
            request,
            "signin.html",
            status_code=401,
            title="Sign in",
            next=safe_next(next),
            error=f"Not signed in: {exc}",
        )
    gate.record(caller, "portal.signin", target="portal", outcome="done")
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = str(request.app.state.settings.public_url).startswith("https://")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=session_seconds(caller),
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return response


@router.post("/signout")
async def signout(request: Request, _: CsrfChecked, caller: PortalCaller) -> Response:
    if not caller.anonymous:
        gate_of(request).record(caller, "portal.signout", target="portal", outcome="done")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
