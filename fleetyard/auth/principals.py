"""From a credential to who is calling: a user, or the fleet or device an API key is of.

Part of `auth/`; the HTTP layer (`api/callers.py`) takes the credential off the request
and turns the `Principal` into the rule set the engine runs with. spec/device-api.md §0.1:
- a JWT is ours when it verifies and has not expired; otherwise it is no credential. A
  valid token whose `jwt_secret` is not the user's current one (the password changed) is
  an immediate 401, as is one of a user that no longer exists;
- an API key is looked up by its hash; an unknown or expired key is no credential.
Answers are remembered for a few seconds per credential, so a busy client costs one
lookup per `CACHE_SECONDS`, not one per request. A key revoked or changed through the API
is forgotten at once in this process (the SDKs check a revoked key right away,
spec/clients.md §8.2 step 11); other server processes drop it within `CACHE_SECONDS`.
"""

from __future__ import annotations

import hmac
import time
import weakref
from dataclasses import dataclass
from typing import Literal

from fleetyard.auth import api_keys, store, tokens
from fleetyard.db.base import Database
from fleetyard.errors import FleetyardError

CACHE_SECONDS = 5.0
CACHE_SIZE = 10_000

ActorType = Literal["user", "application", "device"]


class Unauthorized(FleetyardError):
    """401 with an empty body, as the reference's auth middlewares answer."""

    status = 401
    code = "auth.unauthorized"

    def __init__(self, message: str = "Unauthorized"):
        super().__init__(message)

    def body(self) -> str | None:
        return None


@dataclass(frozen=True)
class Principal:
    actor: int
    actor_type: ActorType
    type_id: int  # the user's, fleet's or device's id
    credential: Literal["jwt", "api_key"]
    username: str | None = None
    email: str | None = None
    slug: str | None = None  # a fleet's
    uuid: str | None = None  # a device's
    superuser: bool = False
    auth_time: int | None = None  # a JWT's `authTime` (ms)

    @property
    def is_user(self) -> bool:
        return self.actor_type == "user"


_REFUSED = object()  # cached: this credential is a 401
_LIVE: weakref.WeakSet[Credentials] = weakref.WeakSet()  # every cache of this process


def forget_everywhere() -> None:
    """Every credential cache of this process drops what it remembers (a key's rows changed)."""
    for credentials in list(_LIVE):
        credentials.forget()


class Credentials:
    """Resolves credentials against one database and signing secret."""

    def __init__(self, db: Database, signing_secret: str, *, cache_seconds: float | None = None):
        self.db = db
        self.signing_secret = signing_secret
        self.cache_seconds = CACHE_SECONDS if cache_seconds is None else cache_seconds
        self._cache: dict[str, tuple[float, object]] = {}
        _LIVE.add(self)

    async def principal(self, token: str) -> Principal | None:
        """Who `token` (a JWT or an API key) speaks for; None for no valid credential.
        Raises `Unauthorized` for a token that must be refused outright."""
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            value = hit[1]
        else:
            try:
                value = await self._resolve(token)
            except Unauthorized:
                value = _REFUSED
            if self.cache_seconds > 0:
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.clear()
                self._cache[token] = (now + self.cache_seconds, value)
        if value is _REFUSED:
            raise Unauthorized()
        return value  # type: ignore[return-value]

    def forget(self) -> None:
        self._cache.clear()

    async def _resolve(self, token: str) -> Principal | None:
        if tokens.looks_like_jwt(token):
            return await self._from_jwt(token)
        return await self._from_key(token)

    async def _from_jwt(self, token: str) -> Principal | None:
        claims = tokens.read(self.signing_secret, token)
        if claims is None:
            return None
        user = await store.user_by_id(self.db, claims.user_id)
        if user is None or not hmac.compare_digest((user.jwt_secret or "").encode(), claims.jwt_secret.encode()):
            raise Unauthorized()
        return Principal(user.actor, "user", user.id, "jwt", username=user.username, email=user.email,
                         superuser=user.superuser, auth_time=claims.auth_time)

    async def _from_key(self, key: str) -> Principal | None:
        actor = await store.key_actor(self.db, api_keys.digest(key))
        if actor is None:
            return None
        user = await store.user_by_actor(self.db, actor)
        if user is not None:
            return Principal(actor, "user", user.id, "api_key", username=user.username,
                             email=user.email, superuser=user.superuser)
        fleet = await store.application_by_actor(self.db, actor)
        if fleet is not None:
            return Principal(actor, "application", fleet[0], "api_key", slug=fleet[1])
        device = await store.device_by_actor(self.db, actor)
        if device is not None:
            return Principal(actor, "device", device[0], "api_key", uuid=device[1])
        return None  # a key of an actor that is nothing any more
