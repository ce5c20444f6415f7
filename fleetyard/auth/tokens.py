"""Session tokens: HS256 JWTs with the claims the balena clients and the reference use.

Part of `auth/`. A user token carries exactly `{id, jwt_secret, authTime, iat, exp}`
(spec/device-api.md §0.1): `id` is the user's id; `jwt_secret` is the user's current
secret, so changing it (a new password) voids every token issued before; `authTime` is
when the password was last typed, in milliseconds as JavaScript's `Date.now()` (the sudo
check of the key routes reads it). Tokens last 7 days (spec/decisions.md "Running it").
The signing secret is `FLEETYARD_JWT_SECRET` or one kept in the database (`bootstrap.py`).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
LIFETIME_SECONDS = 7 * 24 * 3600


def new_user_secret() -> str:
    """A user's `jwt_secret`: 32 base32 characters, as the reference's."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def new_signing_secret() -> str:
    return secrets.token_urlsafe(48)


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: API keys never hold a dot (`api_keys.generate`)."""
    return token.count(".") == 2


@dataclass(frozen=True)
class UserClaims:
    user_id: int
    jwt_secret: str
    auth_time: int  # ms since the epoch
    issued_at: int
    expires_at: int


def issue(signing_secret: str, user_id: int, jwt_secret: str, *, auth_time_ms: int | None = None,
          now: float | None = None, lifetime: int = LIFETIME_SECONDS) -> str:
    """A token for `user_id`; `auth_time_ms` defaults to now (a fresh login)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "id": user_id,
        "jwt_secret": jwt_secret,
        "authTime": auth_time_ms if auth_time_ms is not None else issued * 1000,
        "iat": issued,
        "exp": issued + lifetime,
    }
    return jwt.encode(claims, signing_secret, algorithm=ALGORITHM)


def read(signing_secret: str, token: str) -> UserClaims | None:
    """The claims of a valid, unexpired user token signed with our secret; None otherwise
    (another kind of token, a bad signature, an expired one: no credentials at all)."""
    try:
        claims = jwt.decode(token, signing_secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat"]})
    except jwt.PyJWTError:
        return None
    user_id, user_secret = claims.get("id"), claims.get("jwt_secret")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(user_secret, str):
        return None
    auth_time = claims.get("authTime")
    return UserClaims(user_id, user_secret, auth_time if isinstance(auth_time, int) else 0,
                      int(claims["iat"]), int(claims["exp"]))
