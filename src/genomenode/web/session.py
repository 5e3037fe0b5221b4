"""Who is using the portal, from a session cookie that holds their node token.

A browser cannot send an Authorization header on a link, so sign-in stores the bearer token the
user already has (from `genomenode token issue`, the demo, or an identity provider that issues this
node's tokens) in an HttpOnly, SameSite=Strict cookie that lives no longer than the token. Every
request verifies it again through the same gate as the API, so revoking a user or a grant takes
effect at the next page. Forms that change anything carry a CSRF value that must equal a second
cookie (double submit; SameSite=Strict already keeps other sites' posts from carrying either).
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Annotated

from fastapi import Depends, Request

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.errors import AccessDeniedError, AuthenticationError

SESSION_COOKIE = "genomenode_session"
CSRF_COOKIE = "genomenode_csrf"


class SignInRequired(AuthenticationError):
    """A page that needs a signed-in user was asked for without one: the portal sends them to /signin."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see this page")
        self.next_path = next_path


def gate_of(request: Request) -> AccessControl:
    gate: AccessControl = request.app.state.access
    return gate


def portal_caller(request: Request) -> policy.Caller:
    """The signed-in user, or the anonymous public when there is no cookie or it no longer verifies."""
    cached: policy.Caller | None = getattr(request.state, "portal_caller", None)
    if cached is not None:
        return cached
    caller = policy.ANONYMOUS
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            caller = gate_of(request).caller_for_token(token)
        except AuthenticationError:
            request.state.session_ended = True
    request.state.portal_caller = caller
    return caller


PortalCaller = Annotated[policy.Caller, Depends(portal_caller)]


def require_signed_in(request: Request) -> policy.Caller:
    caller = portal_caller(request)
    if caller.anonymous:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return caller


SignedIn = Annotated[policy.Caller, Depends(require_signed_in)]


def csrf_value(request: Request) -> str:
    """The value this browser's forms carry (made on first use, set as a cookie by `render`)."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf = value
    return value


async def check_csrf(request: Request) -> None:
    form = await request.form()
    sent = form.get("csrf")
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise AccessDeniedError("the form's security value is missing or stale; reload the page and submit again")


CsrfChecked = Annotated[None, Depends(check_csrf)]


def session_seconds(caller: policy.Caller, now: float | None = None) -> int:
    """How long the session cookie may live: no longer than the token (and its visas)."""
    now = time.time() if now is None else now
    return max(0, int((caller.expires_at or now) - now))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (never `//host` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
