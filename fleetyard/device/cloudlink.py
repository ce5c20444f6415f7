"""Cloudlink (the VPN service): devices connecting and disconnecting
(spec/device-api.md §6).

Part of the device side. The VPN service authenticates with FLEETYARD_VPN_SERVICE_API_KEY;
a connect marks devices `is_connected_to_vpn` and managed by that VPN instance, a
disconnect undoes it only for devices that instance still manages (a late disconnect of
another instance changes nothing). The device rules set `is_online` and `last_vpn_event`
with the flag (model.md §4.2). A VPN instance that reports before registering its
`service_instance` row gets one made for it.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from fleetyard.device.common import ALL, EmptyBadRequest, literal, rows
from fleetyard.odata.engine import Engine
from fleetyard.odata.values import iso


def service_key_matches(configured: str | None, given: str | None) -> bool:
    return bool(configured) and given is not None and hmac.compare_digest(configured.encode(), given.encode())  # type: ignore[union-attr]


def parse(body: object) -> tuple[list[str], int]:
    if not isinstance(body, dict):
        raise EmptyBadRequest("the body must be a JSON object")
    uuids, service = body.get("uuids"), body.get("serviceId")
    if (not isinstance(uuids, list) or not uuids or not all(isinstance(u, str) for u in uuids)
            or not isinstance(service, int) or isinstance(service, bool)):
        raise EmptyBadRequest("expected {uuids: [string, …], serviceId: integer}")
    return uuids, service


async def ensure_instance(engine: Engine, service_id: int, ip_address: str) -> None:
    if not await rows(engine, f"/service_instance({service_id})?$select=id"):
        await engine.post("/service_instance?returnResource=false", {
            "id": service_id, "service_type": "vpn", "ip_address": ip_address,
            "last_heartbeat": iso(datetime.now(UTC))}, ALL)


def _uuids(uuids: list[str]) -> str:
    return " or ".join(f"uuid eq {literal(u)}" for u in uuids)


async def connect(engine: Engine, uuids: list[str], service_id: int, ip_address: str) -> int:
    await ensure_instance(engine, service_id, ip_address)
    body: dict[str, Any] = {"is_connected_to_vpn": True, "is_managed_by__service_instance": service_id}
    changed = 0
    for i in range(0, len(uuids), 100):
        changed += await engine.patch(f"/device?$filter={_uuids(uuids[i:i + 100])}", body, ALL)
    return changed


async def disconnect(engine: Engine, uuids: list[str], service_id: int) -> int:
    body: dict[str, Any] = {"is_connected_to_vpn": False, "is_managed_by__service_instance": None}
    changed = 0
    for i in range(0, len(uuids), 100):
        changed += await engine.patch(
            f"/device?$filter=({_uuids(uuids[i:i + 100])}) and is_managed_by__service_instance eq {service_id}",
            body, ALL)
    return changed
