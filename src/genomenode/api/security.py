"""Authorisation as dependencies: who is calling, decided once per request (STYLE habit 12).

Every route names its access rule in `ROUTE_ACCESS`; `check_every_route_has_a_rule` refuses to
build an app with a route that has none, and the matrix test holds each rule to its promise.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.errors import AccessDeniedError, AuthenticationError, ConfigurationError

# public: anyone, aggregates with small counts hidden below CONTROLLED
# authenticated: any verified caller; what they see is decided per object
# <action>: the role policy.may names for it
Rule = Literal["public", "authenticated"] | policy.Action

ROUTE_ACCESS: dict[tuple[str, str], Rule] = {
    ("GET", "/"): "public",
    ("GET", "/health"): "public",
    ("GET", "/datasets"): "public",
    ("GET", "/variants/{variant_id}"): "public",
    ("GET", "/frequencies"): "public",
    ("GET", "/.well-known/jwks.json"): "public",
    ("GET", "/me"): "public",
    ("GET", "/individuals"): "authenticated",
    ("GET", "/individuals/{individual_id}"): "authenticated",
    ("GET", "/individuals/{individual_id}/genotypes"): "authenticated",
    ("PUT", "/individuals/{individual_id}/consent"): policy.Action.MANAGE_CONSENT,
    ("POST", "/individuals/{individual_id}/consent/withdrawal"): policy.Action.MANAGE_CONSENT,
    ("POST", "/individuals/{individual_id}/erasure"): policy.Action.ERASE,
    ("POST", "/projects"): policy.Action.MANAGE_PROJECTS,
    ("POST", "/projects/{project}/members"): policy.Action.MANAGE_PROJECTS,
    ("POST", "/projects/{project}/grants"): policy.Action.MANAGE_GRANTS,
    ("DELETE", "/projects/{project}/grants/{dataset}"): policy.Action.MANAGE_GRANTS,
    ("POST", "/access-requests"): "authenticated",  # a researcher, for a project they are a member of
    ("GET", "/access-requests"): "authenticated",  # a steward: all; a researcher: their projects'
    ("POST", "/access-requests/{request_id}/decision"): policy.Action.MANAGE_GRANTS,
    ("POST", "/access-requests/{request_id}/revocation"): policy.Action.MANAGE_GRANTS,
    ("POST", "/access-requests/{request_id}/withdrawal"): "authenticated",  # the requester's own, pending
    ("GET", "/audit/export"): policy.Action.READ_AUDIT,
    ("GET", "/audit/verify"): policy.Action.READ_AUDIT,
    ("GET", "/cases/{name}/report"): "authenticated",  # only if every member is visible (cases.service)
    ("GET", "/cases/{name}/notes"): "authenticated",  # as the case: every member visible (cases.notes)
    ("POST", "/cases/{name}/notes"): "authenticated",  # as the case: every member visible (cases.notes)
    ("GET", "/individuals/{individual_id}/pgx"): "authenticated",  # a clinician of the region, a steward
    ("GET", "/pgx/summary"): "public",  # small counts hidden below a steward (pgx.summary)
    # GA4GH Beacon v2: open to anyone; the granularity and what records show follow the caller's
    # reach on each dataset (policy.beacon_granularity), decided inside beacon.service
    **{
        (method, f"/api{path}"): "public"
        for method, paths in (
            ("GET", ("", "/info", "/service-info", "/configuration", "/map", "/entry_types", "/filtering_terms")),
            ("GET", ("/{entry}", "/{entry}/{id}", "/{entry}/{id}/{target}")),
            ("POST", ("/{entry}", "/{entry}/{id}", "/{entry}/{id}/{target}")),
        )
        for path in paths
    },
    # federated Beacon queries: open as /api is; peers answer this node at their own rules, and a
    # forwarded request is answered for the peer its token proves (federation.auth), else the public
    ("GET", "/api/federated/{entry}"): "public",
    ("POST", "/api/federated/{entry}"): "public",
}

_bearer = HTTPBearer(
    auto_error=False, description="A JWT from this node (`genomenode token issue`) or a trusted issuer"
)


def access_control(request: Request) -> AccessControl:
    gate: AccessControl = request.app.state.access
    return gate


Gate = Annotated[AccessControl, Depends(access_control)]


def current_caller(
    request: Request, gate: Gate, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> policy.Caller:
    header = request.headers.get("authorization")
    if header and credentials is None:
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    return gate.authenticate(f"Bearer {credentials.credentials}" if credentials else None)


CurrentCaller = Annotated[policy.Caller, Depends(current_caller)]


def authenticated(caller: CurrentCaller) -> policy.Caller:
    if caller.anonymous:
        raise AuthenticationError("this route needs a bearer token")
    return caller


AuthenticatedCaller = Annotated[policy.Caller, Depends(authenticated)]


def requires(action: policy.Action) -> Any:
    """A dependency that lets through only callers holding the role for `action`."""

    def check(caller: AuthenticatedCaller) -> policy.Caller:
        decision = policy.may(caller, action)
        if not decision:
            raise AccessDeniedError(decision.reason)
        return caller

    return Depends(check)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route a client can call: those in the OpenAPI document (which
    includes routers' routes) and the app's own routes left out of it."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi().get("paths", {}).items()
        for method in operations
        if method in methods
    }
    direct = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    }
    return documented | direct


def check_every_route_has_a_rule(app: FastAPI) -> None:
    missing = sorted(app_routes(app) - set(ROUTE_ACCESS))
    if missing:
        shown = ", ".join(f"{m} {p}" for m, p in missing)
        raise ConfigurationError(f"routes without an access rule in api/security.py: {shown}")
