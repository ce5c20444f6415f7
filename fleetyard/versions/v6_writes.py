"""v6 request bodies in v7's terms, before the engine sees them (spec/versions.md §5.4).

Part of the versions stage: renames come from the table (`Alias` rows); the rest are
the reference's v6 hooks — `device_type` slugs on POST, `release_type`, the refused
`depends_on__application`/`is_managed_by__device`, `contract` as text — plus the cloud's
default organization (decisions.md "Versions"). The domain rules then see v7 bodies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from fleetyard.errors import FleetyardError, PermissionDenied
from fleetyard.model.schema import Resource
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.values import check
from fleetyard.versions import v6
from fleetyard.versions.table import write_renames

_ALL = Permissions.all()

RELEASE_TYPES = ("final", "draft")
RELEASE_TYPE = 'It is necessary that each release has a release type that is "final" or "draft".'
RELEASE_CONFLICT = "Conflict between the provided is_final and release_type values"
# §5.4 3-4: a value other than null for these removed links is refused with an empty 400.
REFUSED_LINKS = {"application": "depends_on__application", "device": "is_managed_by__device"}
# §5.4 1-2: the convenience key and the field it fills.
DEVICE_TYPE_FIELD = {"application": "is_for__device_type", "device": "is_of__device_type"}


class RefusedLink(FleetyardError):
    """The reference's v6 hook answers 400 with no body (§5.7)."""

    status = 400
    code = "version.refused_field"

    def body(self) -> str | None:
        return None


class VersionRuleViolation(FleetyardError):
    status = 400
    code = "version.rule"


class UnknownDeviceType(FleetyardError):
    status = 404
    code = "version.unknown_device_type"


class V6Writes:
    """Translates one v6 write's body; reads what it needs through the canonical engine."""

    def __init__(self, canonical: Engine):
        self.canonical = canonical
        self.renames = write_renames(v6.TABLE)

    async def body(self, resource: Resource, method: str, body: object,
                   context: Mapping[str, Any]) -> object:
        if resource.name in v6.READ_ONLY:
            action = {"POST": "create", "DELETE": "delete"}.get(method, "update")
            raise PermissionDenied(f"not allowed to {action} '{resource.name}'")
        if not isinstance(body, dict):
            return body  # the engine says what is wrong with it
        name = resource.name
        data = dict(body)
        for old, new in self.renames.get(name, {}).items():
            if old in data:
                data[new] = data.pop(old)
        link = REFUSED_LINKS.get(name)
        if link is not None and data.pop(link, None) is not None:
            raise RefusedLink(f'"{link}" cannot be set in v6')
        if name == "release":
            release_type(data)
            if isinstance(data.get("contract"), str):
                data["contract"] = _parsed(data["contract"])
        if method == "POST" and name in DEVICE_TYPE_FIELD:
            await self.device_type(data, DEVICE_TYPE_FIELD[name])
        if method == "POST" and name == "application" and data.get("organization") is None:
            organization = await self.personal_organization(context)
            if organization is not None:
                data["organization"] = organization
        return data

    # --- reads in the canonical model -------------------------------------------------

    async def _get(self, url: str) -> list:
        return orjson.loads(await self.canonical.get(url, _ALL))["d"]

    async def device_type(self, data: dict, field: str) -> None:
        """§5.4 1-2: `device_type`, a slug or an alias, becomes the device type's id."""
        slug = data.pop("device_type", None)
        if slug is None or data.get(field) is not None:
            return
        if isinstance(slug, str) and slug:
            rows = await self._get(f"/device_type?$select=id&$filter=slug eq {_text(slug)}")
            if rows:
                data[field] = rows[0]["id"]
                return
            rows = await self._get(
                f"/device_type_alias?$select=device_type&$filter=is_referenced_by__alias eq {_text(slug)}")
            if rows:
                data[field] = rows[0]["device_type"]["__id"]
                return
        raise UnknownDeviceType(f"Unknown device type {slug}")

    async def personal_organization(self, context: Mapping[str, Any]) -> int | None:
        """The calling user's personal organization (its handle is the username,
        `auth/users.py`); None for a caller that is no user."""
        actor = context.get("__ACTOR_ID")
        if not isinstance(actor, int):
            return None
        users = await self._get(f"/user?$select=username&$filter=actor eq {actor}")
        if not users:
            return None
        orgs = await self._get(
            f"/organization?$select=id&$filter=handle eq {_text(users[0]['username'])}"
            f" and includes__user/any(m:m/user/any(u:u/actor eq {actor}))")
        return orgs[0]["id"] if orgs else None


def release_type(data: dict) -> None:
    """§5.2: `release_type` 'final'/'draft' becomes `is_final`; anything else, or an
    `is_final` that says otherwise, is a 400 with the reference's words."""
    if "release_type" not in data:
        return
    given = data.pop("release_type")
    if given not in RELEASE_TYPES:
        raise VersionRuleViolation(RELEASE_TYPE)
    final = given == "final"
    if data.get("is_final") is not None and check("is_final", "Boolean", data["is_final"]) != final:
        raise VersionRuleViolation(RELEASE_CONFLICT)
    data["is_final"] = final


def _parsed(text: str) -> object:
    """§5.4 6: v6 takes `contract` as JSON text; text that is not JSON is kept as it
    came (the engine then refuses what is no object)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _text(s: str) -> str:
    """A string literal for a $filter: percent-encoded, apostrophes doubled (odata.md §2)."""
    return "'" + quote(s, safe="").replace("%27", "''") + "'"
