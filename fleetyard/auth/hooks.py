"""Accounts' write rules: organizations made by users, their memberships, fleets moved
between organizations, and keys deleted with their role rows.

Part of `auth/`, as write hooks (`odata/hooks.py`) that `with_auth_hooks` adds to the
server's (`api/app.py`): they run in the write's transaction, so a refusal rolls it back.
- `POST /v7/organization {"name"}`: the handle is derived from the name, and the user who
  creates it becomes its administrator (spec/decisions.md "The v7 model"); a taken handle
  is the unique constraint's 409 `"handle" must be unique.`.
- An organization keeps at least one administrator; memberships go with it.
- Moving a fleet to another organization takes an administrator of both; whose membership
  or key a row is, and a fleet's or device's actor, never change at a caller's hands.
- Deleting a key deletes its `api_key__has__role` and `api_key__has__permission` rows
  (spec/model.md §1.14).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from fleetyard.auth import permissions as rules
from fleetyard.auth import principals
from fleetyard.errors import FleetyardError, PermissionDenied
from fleetyard.odata.hooks import Hooks, Write
from fleetyard.odata.permissions import Permissions

_SERVER = "__FLEETYARD_ACCOUNTS"  # a context key only these rules set: the write is theirs
_HANDLE = re.compile(r"[a-z0-9_]+\Z")


class AccountRule(FleetyardError):
    status = 400
    code = "auth.rule"


def handle_for(name: str) -> str:
    """decisions.md: lower-cased, each run outside `[a-z0-9_]` one `_`, trimmed of `_`."""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")


def _ids(ids: list) -> str:
    return ",".join(str(int(i)) for i in ids)


def _server(w: Write) -> Write:
    return dataclasses.replace(w, context={**w.context, _SERVER: True})


async def _caller_user(w: Write) -> int | None:
    """The id of the user making the write, if a user is."""
    actor = w.context.get("__ACTOR_ID")
    if actor is None:
        return None
    found = await w.get(f"/user?$select=id&$filter=actor eq {int(actor)}")
    return int(found[0]["id"]) if found else None


async def _role(w: Write, name: str) -> int:
    """The id of an organization role, made if a database lacks it (bootstrap makes them)."""
    found = await w.get(f"/organization_membership_role?$select=id&$filter=name eq '{name}'")
    if found:
        return int(found[0]["id"])
    return int((await w.post("/organization_membership_role?returnResource=false", {"name": name}))["id"])


async def _visible(w: Write, url: str, permissions: Permissions) -> list:
    import orjson

    return orjson.loads(await w.engine.get(url, permissions, w.context, tx=w.tx))["d"]


class OrganizationRules(Hooks):
    async def before_post(self, w: Write, data: dict) -> dict:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AccountRule("An organization needs a name")
        if len(name) > 100:
            raise AccountRule("An organization's name is at most 100 characters long")
        handle = data.get("handle")
        if handle is None:
            handle = handle_for(name)
            if not handle:
                raise AccountRule("The organization's name must hold a letter or a digit to make its handle from")
        elif not isinstance(handle, str) or not _HANDLE.match(handle) or len(handle) > 100:
            raise AccountRule("Handles can only contain lowercase alphanumeric characters and underscores")
        return {**data, "handle": handle}

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        user = await _caller_user(w)
        if user is not None:  # the server's own organizations (CLI, bootstrap) add theirs
            await w.post("/organization_membership?returnResource=false", {
                "user": user, "is_member_of__organization": new_id,
                "organization_membership_role": await _role(w, rules.ADMINISTRATOR)})

    async def before_delete(self, w: Write, ids: list) -> None:
        await _server(w).delete(f"/organization_membership?$filter=is_member_of__organization in ({_ids(ids)})")


class MembershipRules(Hooks):
    """Organization memberships: a new one is a plain member unless it says otherwise; a
    membership keeps its user and organization; every organization keeps an administrator."""

    async def before_post(self, w: Write, data: dict) -> dict:
        if data.get("organization_membership_role") is None:
            data = {**data, "organization_membership_role": await _role(w, rules.MEMBER)}
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if "organization_membership_role" in data:
            await self._administered(w, ids, [])

    async def before_delete(self, w: Write, ids: list) -> None:
        await self._administered(w, ids, ids)

    async def _administered(self, w: Write, ids: list, leaving: list) -> None:
        if w.context.get(_SERVER):
            return  # the organization itself goes
        rows = await w.get(f"/organization_membership?$select=is_member_of__organization&$filter=id in ({_ids(ids)})")
        for org in {r["is_member_of__organization"]["__id"] for r in rows}:
            others = f" and not (id in ({_ids(leaving)}))" if leaving else ""
            admins = await w.get(
                f"/organization_membership/$count?$filter=is_member_of__organization eq {int(org)}{others} and "
                f"organization_membership_role/any(r:r/name eq '{rules.ADMINISTRATOR}')")
            if admins == 0:
                raise AccountRule("An organization must keep at least one administrator")


_ORG_ADMIN = Permissions({"organization": {"read": rules.org_admin()}}, key="organization-admin")
_FLEET_ADMIN = Permissions({"application": {"read": rules.fleet_admin()}}, key="fleet-admin")


class FleetMoves(Hooks):
    """A fleet changes organization only at the hands of an administrator of both (the
    update rule alone would let a developer take a fleet to an organization of theirs)."""

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        if "organization" not in data or w.permissions.everything:
            return data
        mine = await _visible(w, f"/application?$select=id&$filter=id in ({_ids(ids)})", _FLEET_ADMIN)
        target = data["organization"]
        ok = len(mine) == len(ids) and isinstance(target, int | str) and str(target).isdigit() and bool(
            await _visible(w, f"/organization({int(target)})?$select=id", _ORG_ADMIN))
        if not ok:
            raise PermissionDenied("only an administrator of both organizations may move a fleet")
        return data


class Fixed(Hooks):
    """References a caller never changes once the row exists: whose membership or key it
    is, and which actor a fleet or device is (keys and rules find them by their actor)."""

    def __init__(self, *names: str, message: str):
        self.names = names
        self.message = message

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        if not w.permissions.everything and any(n in data for n in self.names):
            raise AccountRule(self.message)
        return data


class KeyRules(Fixed):
    """A key stays its actor's (its role is that actor's kind's), and takes its role and
    permission rows along when it goes."""

    def __init__(self) -> None:
        super().__init__("is_of__actor", message="A key stays with its actor: make a new key instead")

    async def before_delete(self, w: Write, ids: list) -> None:
        for resource in ("api_key__has__role", "api_key__has__permission"):
            await w.delete(f"/{resource}?$filter=api_key in ({_ids(ids)})")

    async def after_delete(self, w: Write, ids: list) -> None:
        # A revoked key is refused from the next request on, not once the cache expires.
        w.after_commit(principals.forget_everywhere)

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if "expiry_date" in data:
            w.after_commit(principals.forget_everywhere)


class Chain(Hooks):
    """Several rule sets of one resource, in order; each `before_` gets the last's body."""

    def __init__(self, *hooks: Hooks):
        self.hooks = hooks
        self.inputs = frozenset().union(*(h.inputs for h in hooks))

    async def before_post(self, w, data):
        for h in self.hooks:
            data = await h.before_post(w, data)
        return data

    async def after_post(self, w, new_id, data):
        for h in self.hooks:
            await h.after_post(w, new_id, data)

    async def before_patch(self, w, ids, data):
        for h in self.hooks:
            data = await h.before_patch(w, ids, data)
        return data

    async def after_patch(self, w, ids, data):
        for h in self.hooks:
            await h.after_patch(w, ids, data)

    async def before_delete(self, w, ids):
        for h in self.hooks:
            await h.before_delete(w, ids)

    async def after_delete(self, w, ids):
        for h in self.hooks:
            await h.after_delete(w, ids)

    async def nothing_to_delete(self, w, keyed):
        for h in self.hooks:
            await h.nothing_to_delete(w, keyed)


_MEMBERSHIP = "A membership's user and {} do not change: remove it and add another"
_ACTOR = "The actor is the server's to set"

AUTH_HOOKS: dict[str, Hooks] = {
    "organization": OrganizationRules(),
    "organization_membership": Chain(
        Fixed("user", "is_member_of__organization", message=_MEMBERSHIP.format("organization")),
        MembershipRules()),
    "user_application_membership": Fixed("user", "is_member_of__application", message=_MEMBERSHIP.format("fleet")),
    "application": Chain(Fixed("actor", message=_ACTOR), FleetMoves()),
    "device": Fixed("actor", message=_ACTOR),
    "api_key": KeyRules(),
}


def with_auth_hooks(hooks: Mapping[str, Hooks]) -> dict[str, Hooks]:
    """`hooks` with the accounts' rules added; theirs run first (a refusal before work)."""
    out = dict(hooks)
    for name, mine in AUTH_HOOKS.items():
        out[name] = Chain(mine, out[name]) if name in out else mine
    return out
