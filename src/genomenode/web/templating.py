"""Pages from Jinja2 templates with autoescaping: every value from a user's file or the store is text.

`render` adds what every page needs (the signed-in user, the CSRF value, the path for the
navigation) and sets the CSRF cookie the first time a browser gets a form.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from genomenode import __version__
from genomenode.access import policy
from genomenode.web.session import CSRF_COOKIE, csrf_value, portal_caller


def frequency(value: float | None) -> str:
    """An allele frequency as gnomAD shows it: 4 significant digits, scientific below 1e-4."""
    if value is None:
        return "hidden"
    if value == 0:
        return "0"
    if value < 1e-4:
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4g}"


def count(value: int | None) -> str:
    """A count with thousands separators; None is a count hidden from this caller."""
    return "hidden" if value is None else f"{value:,}"


def percent(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("genomenode.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["frequency"] = frequency
    env.filters["count"] = count
    env.filters["percent"] = percent
    env.globals["version"] = __version__
    return env


def nav_items(caller: policy.Caller) -> list[tuple[str, str]]:
    """The navigation the caller's roles make useful (the pages check access themselves)."""
    items = [("/", "Search"), ("/dataset", "Datasets")]
    if caller.has(policy.Role.CLINICIAN) or caller.has(policy.Role.STEWARD):
        items.append(("/review", "Cases"))
    if not caller.anonymous:
        items.append(("/access", "Access"))
    if caller.has(policy.Role.STEWARD):
        items.append(("/stewardship/log", "Audit log"))
    items.append(("/docs", "API"))
    return items


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    caller = portal_caller(request)
    csrf = csrf_value(request)
    body = (
        environment()
        .get_template(template)
        .render(
            request=request,
            caller=caller,
            csrf=csrf,
            path=request.url.path,
            nav=nav_items(caller),
            session_ended=getattr(request.state, "session_ended", False),
            **context,
        )
    )
    response = HTMLResponse(body, status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


def _secure(request: Request) -> bool:
    """Cookies are Secure when the node is served over https (its public URL says so)."""
    return str(request.app.state.settings.public_url).startswith("https://")
