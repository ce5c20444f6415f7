"""Making API keys on a caller's request: the checks of the key routes, in their order.

Part of `auth/`, behind the key routes of `api/key_routes.py` (spec/device-api.md §2):
1. a key for a user needs a sudo-fresh session: a JWT whose `authTime` is under 20 min
   old, else 401 "Fresh authentication token required";
2. the row the key is for (user, fleet, device) is read with the caller's rights: no right
   to the resource at all is a 401, an invisible row a 404 (the reference's 500) saying
   "No <type> found to associate with the api key";
3. the caller must hold `create-<role>` on that row (`permissions.ACTIONS`), else 403 with
   an empty body; a role no actor type has is a 404 "Role '<r>' not found", one of
   another actor type a 403;
4. the key is made with its role row; a chosen `apiKey` that exists is the 409
   `"key" must be unique.`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from fleetyard.auth import api_keys
from fleetyard.auth import permissions as rules
from fleetyard.auth.principals import Principal, Unauthorized
from fleetyard.errors import FleetyardError
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

SUDO_SECONDS = 20 * 60
NAME_LIMIT, DESCRIPTION_LIMIT = 50, 150
RESOURCE = {"user": "user", "application": "application", "device": "device"}  # actor type → resource


class KeyRequestError(FleetyardError):
    status = 400
    code = "auth.key_request"


class EmptyKeyRequestError(KeyRequestError):
    """The reference's schema failures: 400 with an empty body."""

    def body(self) -> str | None:
        return None


class NotFreshEnough(FleetyardError):
    status = 401
    code = "auth.not_fresh"


class NoSuchTarget(FleetyardError):
    status = 404
    code = "auth.no_key_target"


class NotAllowed(FleetyardError):
    """403 with an empty body: no `create-<role>` on the row."""

    status = 403
    code = "auth.forbidden"

    def body(self) -> str | None:
        return None


@dataclass(frozen=True)
class KeyRequest:
    actor_type: str  # user | application | device
    actor_type_id: int
    role: str
    name: str | None = None
    description: str | None = None
    expiry: datetime | None = None
    api_key: str | None = None


def options(body: Mapping[str, Any], *, name_required: bool = False) -> dict[str, Any]:
    """`name`, `description`, `expiryDate` (and `apiKey`) of a key route's body, checked."""
    out: dict[str, Any] = {}
    for field in ("name", "description", "apiKey"):
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            raise KeyRequestError(f"{field} must be a string")
        out[field] = value
    if name_required and not out["name"]:
        raise EmptyKeyRequestError("a name is required")
    if out["name"] is not None and len(out["name"]) > NAME_LIMIT:
        raise KeyRequestError("It is necessary that each api key that has a name, has a name that has a "
                              f"Length (Type) that is less than or equal to {NAME_LIMIT}.")
    if out["description"] is not None and len(out["description"]) > DESCRIPTION_LIMIT:
        raise KeyRequestError("It is necessary that each api key that has a description, has a description "
                              f"that has a Length (Type) that is less than or equal to {DESCRIPTION_LIMIT}.")
    out["expiry"] = expiry_date(body.get("expiryDate"))
    return out


def expiry_date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)  # JavaScript's milliseconds
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise KeyRequestError("Key expiry date should be a valid date")


def check_fresh(principal: Principal, now: float | None = None) -> None:
    """A sudo-fresh session: a JWT whose password was typed in the last 20 minutes."""
    now_ms = (time.time() if now is None else now) * 1000
    if principal.credential != "jwt" or principal.auth_time is None or now_ms - principal.auth_time > SUDO_SECONDS * 1000:
        raise NotFreshEnough("Fresh authentication token required")


async def issue(engine: Engine, principal: Principal, permissions: Permissions, context: Mapping[str, Any],
                request: KeyRequest) -> str:
    """The new key, after the checks of the module's header."""
    resource = RESOURCE[request.actor_type]
    if request.actor_type == "user":
        check_fresh(principal)
    url = f"/{resource}({int(request.actor_type_id)})?$select=id,actor"
    found = orjson.loads(await engine.get(url, permissions, context))["d"]
    if not found:
        raise NoSuchTarget(f"No {resource} found to associate with the api key")
    if request.role not in rules.ACTIONS:
        raise NoSuchTarget(f"Role '{request.role}' not found")
    if rules.ACTIONS[request.role][0] != resource:
        raise NotAllowed(f"a {request.role} is not a key of a {resource}")
    if not principal.superuser:
        allowed = orjson.loads(await engine.get(f"/{resource}({int(request.actor_type_id)})?$select=id",
                                                rules.action(request.role), context))["d"]
        if not allowed:
            raise NotAllowed(f"not allowed to create a {request.role} for this {resource}")
    actor = int(found[0]["actor"]["__id"])
    return await api_keys.create(engine, actor, name=request.name, description=request.description,
                                 expiry=request.expiry, key=request.api_key, role=request.role)


def not_a_user(principal: Principal | None) -> None:
    """`fullyAuthenticatedUser`: 401 with an empty body unless a user calls."""
    if principal is None or not principal.is_user:
        raise Unauthorized()
