"""A device's host-OS and supervisor targets from what it says it runs
(spec/model.md §4.1, §4.9; device-api.md §1, §4.2 step 7).

Part of the device side, as a write hook on `device`. A device that says its OS version
(at registration or in a report) targets the matching successful release of the public
host-OS fleet of its device type, moving forward only; a device's first supervisor
version targets the matching release of the public `balena_os/<arch>-supervisor` fleet.
A version no release matches changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from fleetyard.device.common import literal, ref
from fleetyard.odata.hooks import Hooks, Write

OS_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_MANAGED = "__supervisor_unset"


def os_semver(os_version: object) -> tuple[int, int, int] | None:
    """"balenaOS 2.88.4+rev1 (prod)" → (2, 88, 4)."""
    m = OS_VERSION.search(os_version) if isinstance(os_version, str) else None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


async def host_release(w: Write, device_type: int, version: tuple[int, int, int], variant: object) -> dict | None:
    major, minor, patch = version
    variants = "variant eq ''" + (f" or variant eq {literal(variant)}" if isinstance(variant, str) else "")
    found = await w.get(
        f"/release?$select=id,semver_major,semver_minor,semver_patch&$top=1&$orderby=created_at desc"
        f"&$filter=status eq 'success' and semver_major eq {major} and semver_minor eq {minor} and "
        f"semver_patch eq {patch} and ({variants}) and belongs_to__application/any(a:a/is_host eq true and "
        f"a/is_for__device_type eq {int(device_type)})")
    return found[0] if found else None


async def supervisor_release(w: Write, device_type: int, version: str) -> int | None:
    kinds = await w.get(f"/device_type({int(device_type)})?$select=id"
                        "&$expand=is_of__cpu_architecture($select=slug)")
    if not kinds or not kinds[0]["is_of__cpu_architecture"]:
        return None
    arch = kinds[0]["is_of__cpu_architecture"][0]["slug"]
    found = await w.get(
        f"/release?$select=id&$top=1&$orderby=created_at desc&$filter=status eq 'success' and "
        f"semver eq {literal(version.lstrip('v'))} and belongs_to__application/any(a:a/is_public eq true and "
        f"a/is_host eq false and a/slug eq {literal(f'balena_os/{arch}-supervisor')})")
    return int(found[0]["id"]) if found else None


class DeviceTargets(Hooks):
    async def before_post(self, w: Write, data: dict) -> dict:
        data = dict(data)
        kind = data.get("is_of__device_type")
        if kind is None:
            return data
        version = os_semver(data.get("os_version"))
        if version and data.get("should_be_operated_by__release") is None:
            found = await host_release(w, int(ref(kind)), version, data.get("os_variant"))
            if found:
                data["should_be_operated_by__release"] = found["id"]
        if isinstance(data.get("supervisor_version"), str) and data.get("should_be_managed_by__release") is None:
            found_id = await supervisor_release(w, int(ref(kind)), data["supervisor_version"])
            if found_id:
                data["should_be_managed_by__release"] = found_id
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if not isinstance(data.get("os_version"), str) and not isinstance(data.get("supervisor_version"), str):
            return
        for device_id in ids:
            (row,) = await w.get(f"/device({int(device_id)})?$select=is_of__device_type,os_version,os_variant,"
                                 "supervisor_version,should_be_managed_by__release"
                                 "&$expand=should_be_operated_by__release($select=semver_major,semver_minor,"
                                 "semver_patch)")
            await self._host(w, device_id, row, data)
            await self._supervisor(w, device_id, row, data)

    async def _host(self, w: Write, device_id: Any, row: dict, data: dict) -> None:
        version = os_semver(data.get("os_version"))
        if version is None or "should_be_operated_by__release" in data:
            return
        current = row["should_be_operated_by__release"]
        if current:
            c = current[0]
            if (c["semver_major"], c["semver_minor"], c["semver_patch"]) >= version:
                return  # forward only
        found = await host_release(w, int(ref(row["is_of__device_type"])), version, row.get("os_variant"))
        if found:
            await w.patch(f"/device({int(device_id)})", {"should_be_operated_by__release": found["id"]})

    async def _supervisor(self, w: Write, device_id: Any, row: dict, data: dict) -> None:
        version = data.get("supervisor_version")
        if not isinstance(version, str) or row["should_be_managed_by__release"] is not None:
            return
        if "should_be_managed_by__release" in data:
            return
        found = await supervisor_release(w, int(ref(row["is_of__device_type"])), version)
        if found:
            await w.patch(f"/device({int(device_id)})", {"should_be_managed_by__release": found})
