"""The key routes: `POST /api-key/user/full`, `/api-key/application/:id/provisioning`,
`/api-key/v1/` and `/api-key/v2/` (spec/device-api.md §2, decisions.md "Endpoints").

HTTP stage, beside the other auth endpoints (`auth_routes.py` mounts them): each reads the
caller and the body, and `auth/issuing.py` does the checks in the reference's order. Every
route answers 200 with the new key as a JSON string; the device's own key route is the
device side's (`device_routes.py`). Keys are listed and revoked through `/v7/api_key`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleetyard.api.callers import caller_for
from fleetyard.api.odata_routes import read_json
from fleetyard.auth import api_keys, issuing
from fleetyard.auth.issuing import EmptyKeyRequestError, KeyRequest, KeyRequestError
from fleetyard.auth.principals import Principal, Unauthorized

if TYPE_CHECKING:
    from fleetyard.api.auth_routes import AuthRoutes

MAX_BODY = 16 * 1024
ACTOR_TYPES = ("user", "application", "device")


class KeyRoutes:
    def __init__(self, auth: AuthRoutes):
        self.auth = auth

    def routes(self) -> list[Route]:
        g = self.auth.guard
        return [
            Route("/api-key/user/full", g(self.user_full), methods=["POST"]),
            Route("/api-key/application/{app_id}/provisioning", g(self.provisioning), methods=["POST"]),
            Route("/api-key/v1/", g(self.v1), methods=["POST"]),
            Route("/api-key/v1", g(self.v1), methods=["POST"]),
            Route("/api-key/v2/", g(self.v2), methods=["POST"]),
            Route("/api-key/v2", g(self.v2), methods=["POST"]),
        ]

    async def _user(self, request: Request) -> Principal:
        assert self.auth.authenticator is not None
        principal = await self.auth.authenticator.principal(request)
        issuing.not_a_user(principal)
        assert principal is not None
        return principal

    async def _issue(self, principal: Principal, key: KeyRequest) -> Response:
        assert self.auth.engine is not None
        c = caller_for(principal)
        new = await issuing.issue(self.auth.engine, principal, c.permissions, c.context, key)
        return Response(orjson.dumps(new), 200, {"Cache-Control": "no-cache"},
                        media_type="application/json; charset=utf-8")

    async def user_full(self, request: Request) -> Response:
        """A named key of the caller's own: a session (JWT) only, never another key."""
        principal = await self._user(request)
        if principal.credential != "jwt":
            raise Unauthorized()  # named keys lack `auth.create_token`
        o = issuing.options(await _body(request), name_required=True)
        return await self._issue(principal, KeyRequest(
            "user", principal.type_id, api_keys.NAMED_USER, o["name"], o["description"], o["expiry"]))

    async def provisioning(self, request: Request) -> Response:
        principal = await self._user(request)
        raw = request.path_params["app_id"]
        if not raw.isdigit():
            return Response(b"Application id must be a number", 400, media_type="text/plain")
        o = issuing.options(await _body(request))
        return await self._issue(principal, KeyRequest(
            "application", int(raw), api_keys.PROVISIONING, o["name"], o["description"], o["expiry"]))

    async def v1(self, request: Request) -> Response:
        return await self._generic(request, expiry_required=False)

    async def v2(self, request: Request) -> Response:
        return await self._generic(request, expiry_required=True)

    async def _generic(self, request: Request, *, expiry_required: bool) -> Response:
        """`{actorType, actorTypeId, roles: [one role], apiKey?, name?, description?, expiryDate?}`."""
        principal = await self._user(request)
        body = await _body(request)
        actor_type, actor_id, roles = body.get("actorType"), body.get("actorTypeId"), body.get("roles")
        if actor_type not in ACTOR_TYPES:
            raise EmptyKeyRequestError("actorType must be one of user, application, device")
        if isinstance(actor_id, str) and actor_id.isdigit():
            actor_id = int(actor_id)
        if not isinstance(actor_id, int) or isinstance(actor_id, bool):
            raise EmptyKeyRequestError("actorTypeId must be an integer")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise EmptyKeyRequestError("roles must be a list of role names")
        if len(roles) > 1:
            raise KeyRequestError("API Keys currently only support a single role")
        if expiry_required and "expiryDate" not in body:
            raise EmptyKeyRequestError("expiryDate is required (null for none)")
        o = issuing.options(body)
        if roles[0].startswith("named-") and not o["name"]:
            raise KeyRequestError(f"API keys with the '{roles[0]}' role require a name")
        return await self._issue(principal, KeyRequest(
            actor_type, actor_id, roles[0], o["name"], o["description"], o["expiry"], o["apiKey"]))


async def _body(request: Request) -> dict[str, Any]:
    body = await read_json(request, MAX_BODY)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise EmptyKeyRequestError("the body must be a JSON object")
    return body
