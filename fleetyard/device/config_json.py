"""`config.json` for a balenaOS image: `GET|POST /download-config` (spec/device-api.md
§8.1), what `balena config generate`, `balena os configure` and the SDKs' `os.getConfig`
ask for before a device is flashed.

Part of the device side. The options come from the query string and the JSON body (the
body wins); the fleet is read with the caller's rights; each call mints a new
provisioning key of the fleet, with the caller's right to do so checked as for
`/api-key/application/:id/provisioning`. The device the image boots registers with that
key at `apiEndpoint`: this server's own address as the caller reached it, unless
`FLEETYARD_PUBLIC_URL` says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from fleetyard.device.common import BadRequest, NotFound, device_type_named, rows
from fleetyard.domain.devices import can_run
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

LISTEN_PORT = 48484  # the supervisor's own API
DEFAULT_POLL_MS = 60_000
KEY_NAME = "Automatically generated provisioning key"
KEY_DESCRIPTION = "Automatically generated for a config file generation"
VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
TRUE = (True, 1, "true", "on", "1")


@dataclass(frozen=True)
class Endpoints:
    api: str
    vpn: str | None = None
    vpn_port: int = 443
    registry: str | None = None
    delta: str | None = None


@dataclass(frozen=True)
class Request:
    """The checked options of one request."""

    fleet_id: int
    version: str
    device_type: str | None
    network: str
    wifi_ssid: str | None
    wifi_key: str | None
    poll_interval_ms: int
    development: bool
    secureboot: bool
    key_name: str
    key_description: str
    key_expiry: object


def options(query: Mapping[str, str], body: object) -> Request:
    if body is not None and not isinstance(body, dict):
        raise BadRequest("The options must be a JSON object")
    given: dict[str, Any] = {**query, **(body or {})}
    fleet = given.get("appId")
    if fleet is None or fleet == "":
        raise BadRequest("An appId is required.")
    if isinstance(fleet, str) and fleet.isdigit():
        fleet = int(fleet)
    if not isinstance(fleet, int) or isinstance(fleet, bool):
        raise BadRequest("appId must be a fleet id")
    version = given.get("version")
    if version is None or version == "":
        raise BadRequest("A version is required.")
    if not isinstance(version, str) or not (m := VERSION.match(version)):
        raise BadRequest(f"Invalid balenaOS version {version!r}")
    if tuple(int(x) for x in m.groups()) <= (1, 2, 0):
        raise BadRequest(f"balenaOS {version} is too old: config.json is generated for versions after 1.2.0")
    network = given.get("network") or "ethernet"
    if network not in ("ethernet", "wifi"):
        raise BadRequest("network must be 'ethernet' or 'wifi'")
    ssid, key = _text(given, "wifiSsid"), _text(given, "wifiKey")
    if network == "wifi" and not ssid:
        raise BadRequest("A wifiSsid is required for a wifi network")
    device_type = _text(given, "deviceType")
    return Request(
        fleet_id=fleet, version=version, device_type=device_type, network=network, wifi_ssid=ssid, wifi_key=key,
        poll_interval_ms=_minutes(given.get("appUpdatePollInterval")),
        development=given.get("developmentMode") in TRUE or version.endswith(".dev"),
        secureboot=given.get("secureboot") in TRUE or given.get("secureBoot") in TRUE,
        key_name=_text(given, "provisioningKeyName") or KEY_NAME,
        key_description=_text(given, "provisioningKeyDescription") or KEY_DESCRIPTION,
        key_expiry=given.get("provisioningKeyExpiryDate"),
    )


async def fleet_and_type(engine: Engine, permissions: Permissions, context: Mapping[str, Any],
                         req: Request) -> tuple[int, str]:
    """The fleet (404 unless the caller reads it) and the device type's slug: the fleet's
    own, or the one asked for when the fleet's devices can be of it."""
    url = (f"/application({req.fleet_id})?$select=id"
           "&$expand=is_for__device_type($select=slug;$expand=is_of__cpu_architecture($select=slug))")
    found = orjson.loads(await engine.get(url, permissions, context))["d"]
    if not found:
        raise NotFound(f"No fleet with id {req.fleet_id}")
    (own,) = found[0]["is_for__device_type"]
    if req.device_type is None or req.device_type == own["slug"]:
        return found[0]["id"], own["slug"]
    asked = await rows(engine, "/device_type?$select=slug&$expand=is_of__cpu_architecture($select=slug)"
                               f"&$filter={device_type_named(req.device_type)}")
    if not asked:
        raise BadRequest(f"Unknown device type {req.device_type}")
    arch, fleet_arch = asked[0]["is_of__cpu_architecture"][0]["slug"], own["is_of__cpu_architecture"][0]["slug"]
    if not can_run(arch, fleet_arch):
        raise BadRequest(f"A {asked[0]['slug']} device cannot join a fleet of {own['slug']} devices")
    return found[0]["id"], asked[0]["slug"]


def config(req: Request, fleet_id: int, device_type: str, user_id: int, api_key: str,
           endpoints: Endpoints) -> dict[str, Any]:
    out: dict[str, Any] = {
        "applicationId": fleet_id,
        "deviceType": device_type,
        "userId": user_id,
        "appUpdatePollInterval": req.poll_interval_ms,
        "listenPort": LISTEN_PORT,
        "vpnPort": endpoints.vpn_port,
        "apiEndpoint": endpoints.api,
    }
    for name, value in (("vpnEndpoint", endpoints.vpn), ("registryEndpoint", endpoints.registry),
                        ("deltaEndpoint", endpoints.delta)):
        if value:
            out[name] = value
    out["apiKey"] = api_key
    if req.network == "wifi":
        out["wifiSsid"] = req.wifi_ssid
        if req.wifi_key:
            out["wifiKey"] = req.wifi_key
    if req.development:
        out["developmentMode"] = True
    if req.secureboot:
        out["installer"] = {"secureboot": True}
    return out


def _text(given: Mapping[str, Any], name: str) -> str | None:
    value = given.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _minutes(value: object) -> int:
    """The poll interval, given in minutes, in milliseconds."""
    if value is None or value == "":
        return DEFAULT_POLL_MS
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest("appUpdatePollInterval must be a whole number of minutes")
    return value * 60_000
