"""`GET /device-types/v1[/:slug]`: device-type manifests, the `device-type.json` shape the
SDKs' `config.getDeviceTypes()` and `getDeviceOptions()` read (device-api.md §9), built
from the catalogue's `device_type` rows and their contracts.

Part of the device side. Rows are read with the caller's rights (everyone reads device
types, decisions.md); `buildId` is the newest successful release of the device type's
public host-OS fleet, when it has one.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from fleetyard.device.common import BadRequest, NotFound, literal, rows
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

SLUG = re.compile(r"^[\w-]+$")
_SELECT = ("$select=id,slug,name,contract&$expand=is_of__cpu_architecture($select=slug),"
           "device_type_alias($select=is_referenced_by__alias;$orderby=is_referenced_by__alias asc)")

NETWORK_OPTIONS = [
    {"isGroup": True, "name": "network", "message": "Network", "options": [
        {"message": "Network Connection", "name": "network", "type": "list", "choices": ["ethernet", "wifi"]},
        {"message": "Wifi SSID", "name": "wifiSsid", "type": "text",
         "when": {"network": "wifi"}},
        {"message": "Wifi Passphrase", "name": "wifiKey", "type": "password", "when": {"network": "wifi"}},
    ]},
    {"isGroup": True, "isCollapsible": True, "collapsed": True, "name": "advanced", "message": "Advanced",
     "options": [{"message": "Check for updates every X minutes", "name": "appUpdatePollInterval",
                  "type": "number", "min": 10, "default": 10}]},
]


def manifest(row: dict[str, Any], build: str | None) -> dict[str, Any]:
    contract = row.get("contract") or {}
    data = contract.get("data") or {}
    arch = row["is_of__cpu_architecture"][0]["slug"] if row.get("is_of__cpu_architecture") else data.get("arch")
    aliases = [a["is_referenced_by__alias"] for a in row.get("device_type_alias", [])]
    out: dict[str, Any] = {
        "slug": row["slug"], "name": row["name"], "aliases": aliases or [row["slug"]], "arch": arch,
        "state": "RELEASED", "private": bool(data.get("is_private", False)), "isDependent": False,
        "options": NETWORK_OPTIONS,
        "yocto": {"machine": row["slug"], "image": "balena-image", "fstype": "balenaos-img",
                  "deployArtifact": f"balena-image-{row['slug']}.balenaos-img", "compressed": True},
    }
    if contract.get("partials"):
        out["instructions"] = [line for part in contract["partials"].values() for line in part]
    if build is not None:
        out["buildId"] = build
    return out


async def _builds(engine: Engine) -> dict[int, str]:
    """Per device type, the raw version of its host-OS fleet's newest successful release."""
    out: dict[int, str] = {}
    for fleet in await rows(engine, "/application?$select=is_for__device_type&$filter=is_host eq true and "
                                    "is_public eq true&$expand=owns__release($select=raw_version;$top=1;"
                                    "$orderby=created_at desc;$filter=status eq 'success')"):
        if fleet["owns__release"]:
            out.setdefault(fleet["is_for__device_type"]["__id"], fleet["owns__release"][0]["raw_version"])
    return out


async def manifests(engine: Engine, permissions: Permissions, context: dict[str, Any],
                    slug: str | None = None) -> list[dict[str, Any]]:
    url = f"/device_type?{_SELECT}&$orderby=name asc"
    if slug is not None:
        if not SLUG.match(slug):
            raise BadRequest("Invalid device type")
        lit = literal(slug)
        url += f"&$filter=slug eq {lit} or device_type_alias/any(a:a/is_referenced_by__alias eq {lit})"
    found = orjson.loads(await engine.get(url, permissions, context))["d"]
    if slug is not None and not found:
        raise NotFound(f"Unknown device type {slug}")
    builds = await _builds(engine)
    return [manifest(row, builds.get(row["id"])) for row in found]
