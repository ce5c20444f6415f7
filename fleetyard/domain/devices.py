"""Device rules: a new device's uuid, name and actor, the fields a PATCH keeps in step
(connectivity, VPN and update events, the OS variant), moving a device between fleets,
and what a device's delete clears (spec/model.md §4.1-4.3, §4.8; decisions.md).
"""

from __future__ import annotations

import re
import uuid as uuidlib

from fleetyard.domain import pinning
from fleetyard.domain.common import (
    Forbidden,
    NotVisible,
    RuleViolation,
    chunks,
    get_as_caller,
    now,
    ref,
    value,
    within,
)
from fleetyard.domain.installs import TRIGGERS, install_services
from fleetyard.domain.names import device_name
from fleetyard.odata.hooks import Hooks, Write
from fleetyard.odata.values import check

UUID = re.compile(r"[a-f0-9]{32}(?:[a-f0-9]{30})?\Z")
UUID_MESSAGE = "Device UUID must be a 32 or 62 character long lower case hex string."
NO_FLEET = "Application doesn't exist or you have no access to it."
NO_WEB_URL = "The application type does not support web url."
OS_VARIANT = re.compile(r"\((\w+)\)\s*\Z")
# The cpu architectures a device of each architecture can also run (model.md §4.3,
# after the SDK's compatibility map): a 64-bit Arm device runs 32-bit Arm fleets.
RUNS = {"aarch64": {"armv7hf", "rpi"}, "armv7hf": {"rpi"}}
# What hangs off a device, deleted with it (model.md §2.3).
CHILDREN = (
    ("device_environment_variable", "device"),
    ("device_config_variable", "device"),
    ("device_tag", "device"),
    ("image_install", "device"),
    ("service_install", "device"),
)
_MOVED = "__moved"  # ids of devices that change fleet, from before_ to after_patch


def can_run(device_arch: str, fleet_arch: str) -> bool:
    return device_arch == fleet_arch or fleet_arch in RUNS.get(device_arch, set())


def check_name(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise RuleViolation("Device name must be a string if provided.")
    if "\r" in name or "\n" in name:
        raise RuleViolation("Device name cannot contain any newline characters.")
    return name


def check_uuid(v: object) -> str:
    if not isinstance(v, str):
        raise RuleViolation("Device UUID must be a string if provided.")
    if not UUID.match(v):
        raise RuleViolation(UUID_MESSAGE)
    return v


def _no_web_url(data: dict) -> None:
    """§4.8: the flag reads false; asking for true is refused, false changes nothing."""
    if "is_web_accessible" in data:
        wanted = data.pop("is_web_accessible")
        if wanted is not None and check("is_web_accessible", "Boolean", wanted) is True:
            raise Forbidden(NO_WEB_URL)


class DeviceRules(Hooks):
    inputs = frozenset({"is_web_accessible"})
    owned = frozenset({"actor", "uuid", "device_name"})

    async def before_post(self, w: Write, data: dict) -> dict:
        data = dict(data)
        _no_web_url(data)
        data["device_name"] = check_name(data.get("device_name")) or device_name()
        given = data.get("uuid")
        data["uuid"] = uuidlib.uuid4().hex if given is None or given == "" else check_uuid(given)
        data["actor"] = (await w.post("/actor", {}))["id"]
        return data

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        if data.get("is_pinned_on__release") is not None:
            await pinning.check_devices(w, [new_id])
        await install_services(w, [new_id])

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        data = dict(data)
        _no_web_url(data)
        check_name(data.get("device_name"))
        if "uuid" in data:  # the reference checks only the length here; one form is simpler
            check_uuid(data["uuid"])
        _events(w, data)
        if "belongs_to__application" in data:
            data.setdefault("is_pinned_on__release", None)  # §4.3: a move clears the pin
            data[_MOVED] = await _moving(w, ids, data)
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if "is_pinned_on__release" in data or "belongs_to__application" in data:
            await pinning.check_devices(w, ids)
        moved = data.get(_MOVED)
        if moved:
            await _left_fleet(w, moved, value(w.resource, "belongs_to__application", data["belongs_to__application"]))
        if TRIGGERS.intersection(data):
            await install_services(w, ids)

    async def before_delete(self, w: Write, ids: list) -> None:
        for part in chunks(ids):
            # History outlives the device (model.md §7): its open entry ends here.
            await w.patch(f"/device_history?$filter={within('tracks__device', part)} and end_timestamp eq null",
                          {"end_timestamp": now()})
            await w.patch(f"/device_history?$filter={within('tracks__device', part)}", {"tracks__device": None})
            for resource, key in CHILDREN:
                await w.delete(f"/{resource}?$filter={within(key, part)}")


def _events(w: Write, data: dict) -> None:
    """§4.2: what a PATCH of the connectivity and update fields sets with them."""
    if data.get("os_version") and "os_variant" not in data:
        m = OS_VARIANT.search(str(data["os_version"]))
        if m and m.group(1) in ("prod", "dev"):
            data["os_variant"] = m.group(1)
    if "is_connected_to_vpn" in data:
        data["is_online"] = data["is_connected_to_vpn"]
        data["last_vpn_event"] = now()
    if "is_online" in data:
        data["last_connectivity_event"] = now()
    if "update_status" in data:
        data["last_update_status_event"] = now()
    if "is_of__device_type" in data and "should_be_operated_by__release" not in data:
        data["should_be_operated_by__release"] = None


async def _moving(w: Write, ids: list, data: dict) -> list:
    """The devices that change fleet, after checking the fleet exists for the caller and
    can run them (decisions.md: a 400 naming both device types)."""
    fleet = value(w.resource, "belongs_to__application", data["belongs_to__application"])
    moved: list = []
    if fleet is None:
        for part in chunks(ids):
            moved += [d["id"] for d in await w.get(
                f"/device?$select=id&$filter={within('id', part)} and belongs_to__application ne null")]
        return moved
    fleets = await get_as_caller(w, f"/application({int(fleet)})?$select=id,slug"
                                 "&$expand=is_for__device_type($select=slug;$expand=is_of__cpu_architecture($select=slug))")
    if not fleets:
        raise NotVisible(NO_FLEET)
    (target,) = fleets[0]["is_for__device_type"]
    fleet_arch = target["is_of__cpu_architecture"][0]["slug"]
    new_type = value(w.resource, "is_of__device_type", data.get("is_of__device_type"))
    types = "$expand=is_of__device_type($select=slug;$expand=is_of__cpu_architecture($select=slug))"
    for part in chunks(ids):
        rows = await w.get(f"/device?$select=id,belongs_to__application&$filter={within('id', part)}&{types}")
        for row in rows:
            if ref(row["belongs_to__application"]) != fleet:
                moved.append(row["id"])
        kinds = [row["is_of__device_type"][0] for row in rows]
        if new_type is not None:
            kinds = await w.get(f"/device_type({int(new_type)})?$select=slug"
                                "&$expand=is_of__cpu_architecture($select=slug)")
        for kind in kinds:
            if not can_run(kind["is_of__cpu_architecture"][0]["slug"], fleet_arch):
                raise RuleViolation(
                    f"A device of type '{kind['slug']}' cannot join fleet '{fleets[0]['slug']}': its device type "
                    f"'{target['slug']}' needs a {fleet_arch} cpu, and a {kind['slug']} device is "
                    f"{kind['is_of__cpu_architecture'][0]['slug']}.")
    return moved


async def _left_fleet(w: Write, ids: list, fleet: int | None) -> None:
    """§4.3: services of the old fleet are no longer installed; its images are gone."""
    for part in chunks(ids):
        other = "" if fleet is None else f" and installs__service/application ne {int(fleet)}"
        await w.delete(f"/service_install?$filter={within('device', part)}{other}")
        await w.patch(f"/image_install?$filter={within('device', part)}",
                      {"status": "deleted", "download_progress": None})
