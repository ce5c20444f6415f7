"""The auth endpoints: `POST /login_`, `GET /user/v1/whoami`, `GET /actor/v1/whoami`,
`GET|POST /user/v1/refresh-token`, `POST /user/register`, and the key routes
(`key_routes.py`).

Beside the OData route in the HTTP stage, with the shapes of spec/device-api.md §11 and
spec/clients.md §3: the login and the refresh answer the bare JWT as text/plain (the Python
SDK stores the body verbatim); failures of credentials are a 401 with an empty body.
Password checks go through the brute-force throttle (`auth/throttle.py`): 429 with
`Retry-After` once an account or an address has failed too often. Signing up is open only
with FLEETYARD_SIGNUP=open; otherwise `/user/register` is a 404. `bind` hands the routes
the engine and the authenticator when the app starts.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fleetyard.api import forwarded
from fleetyard.api.callers import Authenticator
from fleetyard.api.errors import BodyTooLarge, InvalidJSON, NotFound, answer
from fleetyard.api.key_routes import KeyRoutes
from fleetyard.auth import passwords, store, tokens, users
from fleetyard.auth.bootstrap import AuthState
from fleetyard.auth.principals import Principal, Unauthorized
from fleetyard.auth.rows import ALL, rows
from fleetyard.auth.throttle import RedisThrottle, Throttle
from fleetyard.errors import FleetyardError
from fleetyard.odata.engine import Engine

MAX_LOGIN_BODY = 16 * 1024


class BadLogin(FleetyardError):
    status = 400
    code = "auth.bad_request"


class SignupClosed(NotFound):
    code = "auth.signup_closed"


class AuthRoutes:
    def __init__(self, trusted_proxies: tuple[forwarded.Network, ...] = ()) -> None:
        self.engine: Engine | None = None
        self.authenticator: Authenticator | None = None
        self.signing_secret = ""
        self.signup = False
        self.throttle: Throttle | RedisThrottle = Throttle()
        self.trusted_proxies = trusted_proxies  # whose X-Forwarded-For names the client

    def bind(self, engine: Engine, authenticator: Authenticator, state: AuthState) -> None:
        self.engine = engine
        self.authenticator = authenticator
        self.signing_secret = state.signing_secret
        self.signup = state.signup
        self.throttle = Throttle(state.login_limits)

    def share_throttle(self, redis_client: object, prefix: str) -> None:
        """Count failed logins in Redis, together with the other server processes."""
        self.throttle = RedisThrottle(redis_client, prefix, self.throttle.limits)

    def routes(self) -> list[Route]:
        g = self.guard
        return [
            Route("/login_", g(self.login), methods=["POST"]),
            Route("/user/v1/whoami", g(self.user_whoami), methods=["GET"]),
            Route("/actor/v1/whoami", g(self.actor_whoami), methods=["GET"]),
            Route("/user/v1/refresh-token", g(self.refresh_token), methods=["GET", "POST"]),
            Route("/user/register", g(self.register), methods=["POST"]),
            *KeyRoutes(self).routes(),
        ]

    def guard(self, handler):
        async def endpoint(request: Request) -> Response:
            if self.engine is None or self.authenticator is None:  # a model without accounts
                return answer(NotFound(f"Not found: {request.url.path}"), request.scope)
            try:
                return await handler(request)
            except Exception as exc:
                return answer(exc, request.scope)

        endpoint.__name__ = handler.__name__
        return endpoint

    async def _password_ok(self, request: Request, login: str, stored: str | None, password: str) -> bool:
        """The password check behind the throttle: refused while the account or address
        is, slowed after a few failures."""
        address = forwarded.client_address(request.client.host if request.client else None,
                                           request.headers.get("x-forwarded-for"), self.trusted_proxies)
        await self.throttle.check(login, address)
        if await passwords.verify_async(stored, password):
            await self.throttle.succeeded(login, address)
            return True
        wait = await self.throttle.failed(login, address)
        if wait:
            await asyncio.sleep(wait)
        return False

    def _token(self, user_id: int, secret: str, auth_time_ms: int) -> Response:
        token = tokens.issue(self.signing_secret, user_id, secret, auth_time_ms=auth_time_ms)
        return PlainTextResponse(token, headers={"Cache-Control": "no-cache"})

    # --- POST /login_ ----------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        """`{"username", "password"}` as JSON or a form; `username` may be the e-mail."""
        assert self.engine is not None
        fields = await _login_fields(request)
        login, password = fields.get("username"), fields.get("password")
        if not isinstance(login, str) or not isinstance(password, str):
            raise BadLogin("username and password must be strings")
        if not login or not password:
            raise Unauthorized()
        user = await store.user_by_login(self.engine.db, login)
        if not await self._password_ok(request, login, user.password if user else None, password):
            raise Unauthorized()
        assert user is not None
        secret = await self._after_login(user, password)
        return self._token(user.id, secret, int(time.time() * 1000))

    async def _after_login(self, user: store.UserRow, password: str) -> str:
        """The user's token secret (made now for a user who has none), and the password
        re-hashed when its hash is weaker than today's (an imported bcrypt one)."""
        assert self.engine is not None
        secret = user.jwt_secret
        changes: dict[str, Any] = {}
        if not secret:  # a user made by hand through OData: give them one now
            secret = changes["jwt_secret"] = tokens.new_user_secret()
        if user.password and passwords.needs_rehash(user.password):
            changes["password"] = await passwords.hash_async(password)
        if changes:
            await self.engine.patch(f"/user({user.id})", changes, ALL)
        return secret

    # --- refresh and signup ------------------------------------------------------------------

    async def refresh_token(self, request: Request) -> Response:
        """A new token for a session (a JWT, never an API key: §11 `auth.create_token`).
        With the right `password` the new one is sudo-fresh; without, `authTime` stays."""
        assert self.engine is not None
        p = await self._principal(request)
        if not p.is_user or p.credential != "jwt":
            raise Unauthorized()
        user = await store.user_by_id(self.engine.db, p.type_id)
        if user is None or not user.jwt_secret:
            raise Unauthorized()
        fields = await _login_fields(request)
        password = fields.get("password")
        auth_time = p.auth_time or 0
        if password is not None:
            if not isinstance(password, str) or not await self._password_ok(
                    request, user.username, user.password, password):
                raise Unauthorized()
            auth_time = int(time.time() * 1000)
        return self._token(user.id, user.jwt_secret, auth_time)

    async def register(self, request: Request) -> Response:
        """`{email, password, username?}` → the new user's token (decisions.md)."""
        assert self.engine is not None
        if not self.signup:
            raise SignupClosed("Signing up is not open on this server (FLEETYARD_SIGNUP)")
        fields = await _login_fields(request)
        email, password, username = fields.get("email"), fields.get("password"), fields.get("username")
        if not isinstance(email, str) or not isinstance(password, str) or not (
                username is None or isinstance(username, str)):
            raise BadLogin("email and password (and a username, if given) must be strings")
        if username is None:
            username = await self._free_username(email)
        new = await users.create_user(self.engine, username, password, email=email)
        user = await store.user_by_id(self.engine.db, new.id)
        assert user is not None and user.jwt_secret
        return self._token(user.id, user.jwt_secret, int(time.time() * 1000))

    async def _free_username(self, email: str) -> str:
        """A username made of the address's local part, numbered when taken."""
        assert self.engine is not None
        base = re.sub(r"[^a-z0-9_]+", "_", email.split("@")[0].lower()).strip("_")[:60] or "user"
        for n in range(1, 100):
            name = base if n == 1 else f"{base}_{n}"
            taken = await rows(self.engine, f"/user?$select=id&$filter=username eq '{name}'") or await rows(
                self.engine, f"/organization?$select=id&$filter=handle eq '{name}'")
            if not taken:
                return name
        raise users.AccountConflict("This username is already taken")

    # --- whoami ----------------------------------------------------------------------------

    async def _principal(self, request: Request) -> Principal:
        assert self.authenticator is not None
        principal = await self.authenticator.principal(request)
        if principal is None:
            raise Unauthorized()
        return principal

    async def user_whoami(self, request: Request) -> Response:
        """A user's JWT or API key only (`fullyAuthenticatedUser`)."""
        p = await self._principal(request)
        if not p.is_user:
            raise Unauthorized()
        return _json({"id": p.type_id, "username": p.username, "email": p.email})

    async def actor_whoami(self, request: Request) -> Response:
        p = await self._principal(request)
        body: dict[str, Any] = {"id": p.actor, "actorType": p.actor_type, "actorTypeId": p.type_id}
        if p.actor_type == "user":
            body.update(username=p.username, email=p.email)
        elif p.actor_type == "application":
            body["slug"] = p.slug
        else:
            body["uuid"] = p.uuid
        return _json(body)


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), 200, {"Cache-Control": "no-cache"},
                    media_type="application/json; charset=utf-8")


async def _login_fields(request: Request) -> dict[str, Any]:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_LOGIN_BODY:
            raise BodyTooLarge(f"Request body too large: the limit is {MAX_LOGIN_BODY // 1024} kB")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        form = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in form.items()}
    if not data.strip():
        return {}
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidJSON(f"Invalid JSON in the request body: {e}") from None
    if not isinstance(parsed, dict):
        raise BadLogin("the request body must be a JSON object")
    return parsed
