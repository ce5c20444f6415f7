"""Who is calling: the rights and context values one request runs with.

The HTTP layer asks `caller(request)` once per request and hands the answer to the engine;
the permission predicates bind `@__ACTOR_ID` from `Caller.context`. `Authenticator` is the
real one: it reads the request's credential (spec/device-api.md §0.1) — an API key from
`?apikey=`, else `Authorization: Bearer <JWT or API key>`, else a JWT from `?auth_token=` —
and picks the rule set of `fleetyard.auth.permissions`: superuser, user, device key,
provisioning (fleet) key, or the guest role when there is no valid credential (spec/decisions.md "Anonymous callers"). `caller`, which
makes everyone a superuser, is left for models without accounts (the engine's test model).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from fleetyard.auth import permissions as rules
from fleetyard.auth.principals import Credentials, Principal
from fleetyard.odata.permissions import Permissions


@dataclass(frozen=True, slots=True)
class Caller:
    """The rights of one request: `permissions` go into every statement, `context` holds
    the `@__…` values they refer to (e.g. `{"__ACTOR_ID": 7}`)."""

    permissions: Permissions
    context: Mapping[str, Any] = field(default_factory=dict)


# What `create_app(caller=…)` takes: an async function of the request.
CallerResolver = Callable[[Request], Awaitable[Caller]]

# One shared object: `Permissions.all()` has a fixed cache key, so every request reuses
# the same compiled statements.
SUPERUSER = Caller(Permissions.all(), {})
GUEST = Caller(rules.GUEST, {})


async def caller(request: Request) -> Caller:
    """Everyone is a superuser: for a model without accounts (no `user` resource).

    Only safe on a loopback address (the default bind); `create_app` logs a warning.
    """
    return SUPERUSER


def caller_for(principal: Principal | None) -> Caller:
    if principal is None:
        return GUEST
    context = {"__ACTOR_ID": principal.actor}
    if principal.superuser:
        return Caller(rules.SUPERUSER, context)
    if principal.is_user:
        return Caller(rules.USER, context)
    # Fleet (provisioning) and device keys: their own rule sets (spec/model.md §5.2).
    if principal.actor_type == "device":
        return Caller(rules.DEVICE, context)
    return Caller(rules.PROVISIONING, context)


def credential(request: Request) -> str | None:
    """The request's credential as the reference reads it (device-api.md §0.1)."""
    query: bytes = request.scope.get("query_string") or b""
    if b"apikey=" in query:
        key = request.query_params.get("apikey")
        if key:
            return key
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    if b"auth_token=" in query:
        return request.query_params.get("auth_token") or None
    return None


class Authenticator:
    """The `CallerResolver` of a server with accounts."""

    def __init__(self, credentials: Credentials):
        self.credentials = credentials

    async def principal(self, request: Request) -> Principal | None:
        """Who is calling; None without a valid credential. Raises `Unauthorized` (401)
        for a token that must be refused (device-api.md §0.1)."""
        token = credential(request)
        if token is None:
            return None
        return await self.credentials.principal(token)

    async def __call__(self, request: Request) -> Caller:
        return caller_for(await self.principal(request))
