"""Heartbeats and cloudlink drive `overall_status` and `overall_progress` through every
value by real requests, with the short timings of `FAST` (device-api.md §5, §6;
model.md §4.6, §4.7)."""

from __future__ import annotations

import asyncio
import time

from tests.device.conftest import VPN_KEY, register

VPN = {"Authorization": f"Bearer {VPN_KEY}"}


async def status(world, device) -> dict:
    return await world.one(f"/device({device.id})?$select=overall_status,overall_progress,api_heartbeat_state,"
                           "is_connected_to_vpn,is_online,last_vpn_event,changed_api_heartbeat_state_on__date")


async def until(world, device, heartbeat: str, limit: float = 5.0) -> dict:
    deadline = time.monotonic() + limit
    while True:
        row = await status(world, device)
        if row["api_heartbeat_state"] == heartbeat or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.02)


async def poll(client, device) -> None:
    r = await client.get(f"/device/v3/{device.uuid}/state", headers=device.headers)
    assert r.status_code == 200


async def vpn(client, device, on: bool, service: int = 1):
    path = "client-connect" if on else "client-disconnect"
    r = await client.post(f"/services/vpn/{path}", headers=VPN, json={"uuids": [device.uuid], "serviceId": service})
    assert r.status_code == 200, r.text


async def test_heartbeat_online_timeout_offline(client, world):
    device = await register(client, world)
    side = client.app.state.devices
    assert (await status(world, device))["api_heartbeat_state"] == "unknown"
    writes = side.heartbeats.writes
    for _ in range(5):
        await poll(client, device)
    row = await status(world, device)
    assert row["api_heartbeat_state"] == "online" and row["changed_api_heartbeat_state_on__date"]
    assert side.heartbeats.writes == writes + 1  # five polls, one write
    # 1.5 × 300 ms without a poll: timeout; 200 ms later: offline.
    started = time.monotonic()
    assert (await until(world, device, "timeout"))["api_heartbeat_state"] == "timeout"
    assert time.monotonic() - started >= 0.35
    assert (await until(world, device, "offline"))["api_heartbeat_state"] == "offline"
    await poll(client, device)
    assert (await status(world, device))["api_heartbeat_state"] == "online"


async def test_polling_keeps_a_device_online(client, world):
    device = await register(client, world)
    for _ in range(12):  # 1.2 s of polls every 100 ms: never a timeout
        await poll(client, device)
        await asyncio.sleep(0.1)
        assert (await status(world, device))["api_heartbeat_state"] == "online"


async def test_a_longer_poll_interval_waits_longer(client, world):
    device = await register(client, world)
    await world.post("/device_config_variable", {"device": device.id, "name": "RESIN_SUPERVISOR_POLL_INTERVAL",
                                                 "value": "2000"})
    await poll(client, device)
    await asyncio.sleep(1.0)  # past 1.5 × the minimum, well before 1.5 × 2000 ms
    assert (await status(world, device))["api_heartbeat_state"] == "online"


async def test_cloudlink(client, world):
    device = await register(client, world)
    body = {"uuids": [device.uuid], "serviceId": 7}
    assert (await client.post("/services/vpn/client-connect", json=body)).json() == {"error": "API key required"}
    assert (await client.post("/services/vpn/client-connect", json=body, headers=device.headers)).status_code == 401
    assert (await client.post("/services/vpn/client-connect", json={"uuids": []}, headers=VPN)).status_code == 400
    await vpn(client, device, True, 7)
    row = await world.one(f"/device({device.id})?$select=is_connected_to_vpn,is_online,last_vpn_event,"
                          "is_managed_by__service_instance,last_connectivity_event")
    assert row["is_connected_to_vpn"] is True and row["is_online"] is True and row["last_vpn_event"]
    assert row["is_managed_by__service_instance"] == {"__id": 7} and row["last_connectivity_event"]
    await vpn(client, device, False, 8)  # a stale disconnect from another instance
    assert (await status(world, device))["is_connected_to_vpn"] is True
    await vpn(client, device, False, 7)
    row = await world.one(f"/device({device.id})?$select=is_connected_to_vpn,is_managed_by__service_instance")
    assert row == {"is_connected_to_vpn": False, "is_managed_by__service_instance": None}
    # The VPN's own login check: a device's key for its own uuid only.
    assert (await client.get(f"/services/vpn/auth/{device.uuid}", headers=device.headers)).status_code == 200
    other = await register(client, world)
    assert (await client.get(f"/services/vpn/auth/{device.uuid}", headers=other.headers)).status_code == 401


async def test_overall_status_by_real_requests(client, world):
    device = await register(client, world)
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("configuring", None)  # never seen
    await poll(client, device)
    assert (await status(world, device))["overall_status"] == "reduced-functionality"  # API only, VPN expected
    await vpn(client, device, True)
    assert (await status(world, device))["overall_status"] == "operational"  # both
    await until(world, device, "timeout")
    assert (await status(world, device))["overall_status"] == "reduced-functionality"  # VPN only, timed out
    await until(world, device, "offline")
    assert (await status(world, device))["overall_status"] == "reduced-functionality"  # VPN only
    await vpn(client, device, False)
    assert (await status(world, device))["overall_status"] == "disconnected"  # neither
    await poll(client, device)
    assert (await status(world, device))["overall_status"] == "reduced-functionality"
    var = await world.post("/application_config_variable", {"application": world.fleet,
                                                            "name": "RESIN_SUPERVISOR_VPN_CONTROL", "value": "false"})
    assert (await status(world, device))["overall_status"] == "operational"  # no VPN wanted
    await world.engine.delete(f"/application_config_variable({var['id']})", __import__(
        "fleetyard.odata.permissions", fromlist=["x"]).Permissions.all())
    await vpn(client, device, True)
    assert (await status(world, device))["overall_status"] == "operational"

    # Updating: a service downloading, through a real report.
    report = {device.uuid: {"status": "Idle", "apps": {world.fleet_uuid: {"release_uuid": world.commit, "releases": {
        world.commit: {"update_status": "downloading", "services": {
            "main": {"image": world.image_location, "status": "Downloading", "download_progress": 40}}}}}}}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=report)).status_code == 200
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("updating", 40)
    # Its device-level progress (v2) wins while it reports "Downloading" itself.
    r = await client.patch(f"/device/v2/{device.uuid}/state", headers=device.headers,
                           json={"local": {"status": "Downloading", "download_progress": 70}})
    assert r.status_code == 200
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("updating", 70)
    # Done downloading: running, operational again.
    report[device.uuid]["status"] = "Idle"
    report[device.uuid]["apps"][world.fleet_uuid]["releases"][world.commit] = {
        "update_status": "done", "services": {"main": {"image": world.image_location, "status": "Running"}}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=report)).status_code == 200
    r = await client.patch(f"/device/v2/{device.uuid}/state", headers=device.headers,
                           json={"local": {"download_progress": None}})
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("operational", None)

    # Configuring while provisioning, post-provisioning, inactive.
    await client.patch("/device/v3/state", headers=device.headers, json={device.uuid: {"provisioning_progress": 30}})
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("configuring", 30)
    await client.patch("/device/v3/state", headers=device.headers,
                       json={device.uuid: {"provisioning_state": "Post-Provisioning", "provisioning_progress": 90}})
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("post-provisioning", 90)
    await client.patch("/device/v3/state", headers=device.headers,
                       json={device.uuid: {"provisioning_state": None, "provisioning_progress": None}})
    assert (await status(world, device))["overall_status"] == "operational"
    r = await client.patch(f"/v7/device({device.id})", headers=world.alice.headers, json={"is_active": False})
    assert r.status_code == 200
    row = await status(world, device)
    assert (row["overall_status"], row["overall_progress"]) == ("inactive", None)
