"""What the server sets up on start: the JWT signing secret, the role rows, the admin.

Part of `auth/`, run once per process after the migrations (`fleetyard serve` runs it
before its workers start, so a generated password is printed once). spec/decisions.md
"Running it":
- the signing secret is FLEETYARD_JWT_SECRET, else generated on the first start and kept in
  the database, so restarts and every worker share it;
- FLEETYARD_ADMIN_USERNAME + FLEETYARD_ADMIN_PASSWORD (+ FLEETYARD_ADMIN_EMAIL): that user is
  created as a superuser, with their organization, when it does not exist;
- without FLEETYARD_ADMIN_PASSWORD, a fresh database (no user at all) gets the admin
  (FLEETYARD_ADMIN_USERNAME or `admin`) with a generated password, printed once;
- FLEETYARD_SIGNUP=open lets anyone make an account through `POST /user/register`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fleetyard.auth import passwords, store, tokens, users
from fleetyard.auth.throttle import Limits
from fleetyard.errors import ConstraintError, FleetyardError
from fleetyard.odata.engine import Engine

log = logging.getLogger("fleetyard.auth")

DEFAULT_ADMIN = "admin"
JWT_SECRET_SETTING = "jwt_secret"


class BootstrapError(Exception):
    """The start-up cannot do what the settings ask (e.g. an impossible admin username)."""


@dataclass(frozen=True)
class AuthSettings:
    jwt_secret: str | None = None
    admin_username: str | None = None
    admin_password: str | None = None
    admin_email: str | None = None
    signup: bool = False  # FLEETYARD_SIGNUP=open: anyone may make an account (/user/register)
    login_limits: Limits | None = None  # the brute-force throttle's (tests make them small)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if environ is None else environ
        return cls(
            jwt_secret=env.get("FLEETYARD_JWT_SECRET") or None,
            admin_username=env.get("FLEETYARD_ADMIN_USERNAME") or None,
            admin_password=env.get("FLEETYARD_ADMIN_PASSWORD") or None,
            admin_email=env.get("FLEETYARD_ADMIN_EMAIL") or None,
            signup=(env.get("FLEETYARD_SIGNUP") or "").strip().lower() == "open",
        )


@dataclass(frozen=True)
class AuthState:
    """What request handling needs from the start-up: the key tokens are signed with,
    whether signing up is open, the throttle's limits."""

    signing_secret: str
    signup: bool = False
    login_limits: Limits | None = None


def _log_password(message: str) -> None:
    log.warning("%s", message)


async def bootstrap(engine: Engine, settings: AuthSettings,
                    announce: Callable[[str], None] = _log_password) -> AuthState:
    """Idempotent: every process runs it; only the first one creates anything."""
    secret = settings.jwt_secret or await store.setting(engine.db, JWT_SECRET_SETTING, tokens.new_signing_secret)
    await users.ensure_roles(engine)
    await ensure_admin(engine, settings, announce)
    return AuthState(secret, signup=settings.signup, login_limits=settings.login_limits)


async def ensure_admin(engine: Engine, settings: AuthSettings,
                       announce: Callable[[str], None] = _log_password) -> bool:
    """Create the admin the settings ask for; whether one was created now."""
    username = settings.admin_username or DEFAULT_ADMIN
    password = settings.admin_password
    if password is not None:
        if settings.admin_username is None:
            return False  # a password for nobody: nothing to do (decisions.md needs both)
        if await store.user_by_name(engine.db, username.strip().lower()) is not None:
            return False
    elif await store.count_users(engine.db) > 0:
        return False
    generated = password is None
    if generated:
        password = passwords.generate_password()
    assert password is not None
    try:
        await users.create_user(engine, username, password, email=settings.admin_email, superuser=True)
    except (users.AccountConflict, ConstraintError):
        return False  # another process made it first
    except FleetyardError as e:
        raise BootstrapError(f"cannot create the admin user {username!r}: {e.message}") from e
    if generated:
        announce(f"created the admin user {username!r} with the password {password} "
                 "(shown once: log in and keep it, or set FLEETYARD_ADMIN_PASSWORD)")
    else:
        log.info("created the admin user %r", username)
    return True
