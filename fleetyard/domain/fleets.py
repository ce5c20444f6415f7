"""Fleet rules: what a new fleet must say and what the server fills in (actor, uuid, slug,
tracking), the slug kept in step with the name and the organization's handle, target
releases and tracking, and the cascade of a fleet's delete (spec/model.md §2,
decisions.md "Fleets, releases, devices").
"""

from __future__ import annotations

import re
import uuid as uuidlib

from fleetyard.domain import pinning
from fleetyard.domain.common import (
    NotVisible,
    RuleViolation,
    as_server,
    by_server,
    chunks,
    delete_as_caller,
    get_as_caller,
    ref,
    value,
    within,
)
from fleetyard.domain.installs import install_fleet_services
from fleetyard.domain.releases import track_latest
from fleetyard.odata.hooks import Hooks, Write

REQUIRED = ("organization", "app_name", "is_for__device_type")
APP_NAME = re.compile(r"[a-zA-Z0-9_-]+\Z")
APP_NAME_LENGTH = (
    "It is necessary that each application has an app name that has a Length (Type) that is "
    "greater than or equal to 4 and is less than or equal to 100.")
UUID_MESSAGE = "Application UUID must be a 32 character long lower case UUID version 4."
SAME_ARCH = "The new default device type should be of the same cpu architecture as the previous one."
# What the fleet's own rows hold, deleted before it in the reference's order (§2.3); the
# devices' and releases' own rules delete what hangs off them.
DEPENDENTS = (
    ("device", "belongs_to__application"),
    ("application_config_variable", "application"),
    ("application_environment_variable", "application"),
    ("application_tag", "application"),
    ("build_environment_variable", "application"),
    ("release", "belongs_to__application"),
    ("service", "application"),
)
# The cloud's fleet memberships (decisions.md) are the server's to remove with the fleet.
SERVER_DEPENDENTS = (("user_application_membership", "is_member_of__application"),)


def check_app_name(name: object) -> str:
    if not isinstance(name, str) or not APP_NAME.match(name):
        raise RuleViolation("App name may only contain [a-zA-Z0-9_-].")
    if not 4 <= len(name) <= 100:
        raise RuleViolation(APP_NAME_LENGTH)
    return name


def check_uuid(v: object) -> str:
    """32 hex characters forming a version-4 UUID, in either case (§2.1)."""
    if not isinstance(v, str) or len(v) != 32:
        raise RuleViolation(UUID_MESSAGE)
    try:
        parsed = uuidlib.UUID(hex=v)
    except ValueError:
        raise RuleViolation(UUID_MESSAGE) from None
    if parsed.version != 4 or parsed.hex != v.lower():
        raise RuleViolation(UUID_MESSAGE)
    return v


def missing(data: dict) -> RuleViolation | None:
    names = [f'"{n}"' for n in REQUIRED if data.get(n) is None]
    if not names:
        return None
    if len(names) == 1:
        return RuleViolation(f"{names[0]} is required to create a fleet")
    return RuleViolation(f"{', '.join(names[:-1])} and {names[-1]} are required to create a fleet")


class ApplicationRules(Hooks):
    owned = frozenset({"actor", "slug", "uuid", "application_type"})

    async def before_post(self, w: Write, data: dict) -> dict:
        if (error := missing(data)) is not None:
            raise error
        data = dict(data)
        data["app_name"] = check_app_name(data["app_name"])
        organization = value(w.resource, "organization", data["organization"])
        data["slug"] = await slug_for(w, organization, data["app_name"])
        data["uuid"] = uuidlib.uuid4().hex if data.get("uuid") is None else check_uuid(data["uuid"])
        data["should_track_latest_release"] = True  # §2.1: whatever the client sent
        if data.get("application_type") is None:
            default = await w.get("/application_type?$select=id&$filter=slug eq 'default'")
            if default:
                data["application_type"] = default[0]["id"]
        data["actor"] = (await w.post("/actor", {}))["id"]
        return data

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        if data.get("should_be_running__release") is not None:
            await pinning.check_fleets(w, [new_id])

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        data = dict(data)
        if not by_server(w):
            data.pop("slug", None)  # §2.2: recomputed from the name and the handle, never sent
        if "app_name" in data:
            check_app_name(data["app_name"])
        if "uuid" in data:
            check_uuid(data["uuid"])
        if data.get("is_for__device_type") is not None:
            await _same_architecture(w, ids, value(w.resource, "is_for__device_type", data["is_for__device_type"]))
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if "app_name" in data or "organization" in data:
            await update_slugs(w, ids)
        if "should_be_running__release" in data:
            await pinning.check_fleets(w, ids)
            await install_fleet_services(w, ids)
        elif value(w.resource, "should_track_latest_release", data.get("should_track_latest_release")) is True:
            # decisions.md: tracking on without a release in the body follows the latest again
            await track_latest(w, ids)

    async def before_delete(self, w: Write, ids: list) -> None:
        for part in chunks(ids):
            # The fleet and its releases reference each other: break the cycle first (§2.3).
            await w.patch(f"/application?$filter={within('id', part)} and should_be_running__release ne null",
                          {"should_be_running__release": None})
            await w.patch(f"/device_history?$filter={within('belongs_to__application', part)}",
                          {"belongs_to__application": None})
            for resource, key in DEPENDENTS:
                await delete_as_caller(w, f"/{resource}?$filter={within(key, part)}")
            for resource, key in SERVER_DEPENDENTS:
                await w.delete(f"/{resource}?$filter={within(key, part)}")

    async def nothing_to_delete(self, w: Write, keyed: bool) -> None:
        if keyed:  # §2.3, as the reference: only a fleet by key, never a $filter
            raise NotVisible("Application(s) not found.")


class OrganizationSlugs(Hooks):
    """A new handle renames every slug of the organization's fleets (§2.2)."""

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if "handle" in data:
            for part in chunks(ids):
                fleets = await w.get(f"/application?$select=id&$filter={within('organization', part)}")
                await update_slugs(w, [f["id"] for f in fleets])


async def slug_for(w: Write, organization: int, app_name: str) -> str:
    # The handle is read with the caller's rights, as the reference does (§2.1).
    orgs = await get_as_caller(w, f"/organization({int(organization)})?$select=handle")
    if not orgs:
        raise RuleViolation("Missing organization handle")
    return f"{orgs[0]['handle']}/{app_name}".lower()


async def update_slugs(w: Write, ids: list) -> None:
    server = as_server(w)
    for part in chunks(ids):
        rows = await w.get(f"/application?$select=id,app_name,slug&$filter={within('id', part)}"
                           "&$expand=organization($select=handle)")
        for row in rows:
            slug = f"{row['organization'][0]['handle']}/{row['app_name']}".lower()
            if slug != row["slug"]:
                await server.patch(f"/application({row['id']})", {"slug": slug})


async def _same_architecture(w: Write, ids: list, device_type: int) -> None:
    """§2.2: the new default device type keeps the fleets' cpu architecture."""
    arches: set = set()
    new = await w.get(f"/device_type({int(device_type)})?$select=is_of__cpu_architecture")
    arches.update(ref(d["is_of__cpu_architecture"]) for d in new)
    for part in chunks(ids):
        rows = await w.get(f"/application?$select=id&$filter={within('id', part)}"
                           "&$expand=is_for__device_type($select=is_of__cpu_architecture)")
        arches.update(ref(dt["is_of__cpu_architecture"]) for row in rows for dt in row["is_for__device_type"])
    if len(arches) > 1:
        raise RuleViolation(SAME_ARCH)
