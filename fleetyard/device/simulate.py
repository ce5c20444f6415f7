"""Simulated devices: each registers with a provisioning key, then polls its target state
with its ETag, reports its current state when the target changes (and every few polls),
and posts a log line now and then — what a balena supervisor does (device-api.md §1-§7).

Part of the device side, used by `fleetyard simulate`, by tests and by benchmarks. It
speaks HTTP through the `httpx.AsyncClient` it is given, so it runs against a real
server or an app in the same process alike.
"""

from __future__ import annotations

import asyncio
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

OS_VERSION = "balenaOS 6.1.24"
SUPERVISOR_VERSION = "16.4.0"


@dataclass
class Stats:
    registered: int = 0
    polls: int = 0
    changed: int = 0  # 200s
    unchanged: int = 0  # 304s
    reports: int = 0
    logs: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class SimulatedDevice:
    uuid: str
    key: str
    fleet_uuid: str
    etag: str | None = None
    target: dict[str, Any] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def fleet_of(http: httpx.AsyncClient, slug: str, token: str) -> dict[str, Any]:
    r = await http.get(f"/v7/application(slug='{quote(slug, safe='')}')?$select=id,uuid",
                       headers={"Authorization": f"Bearer {token}"})
    rows = r.json().get("d") if r.status_code == 200 else None
    if not rows:
        raise SystemExit(f"no fleet {slug!r} for these credentials ({r.status_code})")
    return rows[0]


async def provisioning_key(http: httpx.AsyncClient, fleet_id: int, token: str) -> str:
    r = await http.post(f"/api-key/application/{fleet_id}/provisioning", json={"name": "fleetyard simulate"},
                        headers={"Authorization": f"Bearer {token}"})
    if r.status_code != 200:
        raise SystemExit(f"could not make a provisioning key: {r.status_code} {r.text}")
    return str(r.json())


async def register(http: httpx.AsyncClient, fleet: dict[str, Any], key: str, device_type: str,
                   stats: Stats) -> SimulatedDevice:
    uuid = uuidlib.uuid4().hex
    r = await http.post("/device/register", headers={"Authorization": f"Bearer {key}"}, json={
        "application": fleet["id"], "device_type": device_type, "uuid": uuid,
        "os_version": OS_VERSION, "os_variant": "prod", "supervisor_version": SUPERVISOR_VERSION})
    if r.status_code != 201:
        raise SystemExit(f"registration failed: {r.status_code} {r.text}")
    stats.registered += 1
    return SimulatedDevice(uuid, r.json()["api_key"], fleet["uuid"])


def current_state(device: SimulatedDevice) -> dict[str, Any]:
    """A report of running exactly the target: every service of its fleet's release Running."""
    report: dict[str, Any] = {"status": "Idle", "is_online": True, "os_version": OS_VERSION, "os_variant": "prod",
                              "supervisor_version": SUPERVISOR_VERSION, "ip_address": "10.0.0.2",
                              "api_port": 48484, "cpu_usage": 5, "memory_usage": 200, "memory_total": 4000}
    app = ((device.target or {}).get(device.uuid) or {}).get("apps", {}).get(device.fleet_uuid)
    if app is not None:
        releases = {commit: {"update_status": "done", "services": {
            name: {"image": service["image"], "status": "Running"}
            for name, service in (release.get("services") or {}).items()}}
            for commit, release in (app.get("releases") or {}).items()}
        report["apps"] = {device.fleet_uuid: {"release_uuid": next(iter(releases), None), "releases": releases}}
    return {device.uuid: report}


async def poll(http: httpx.AsyncClient, device: SimulatedDevice, stats: Stats) -> bool:
    """One state fetch; whether the target changed."""
    headers = dict(device.headers)
    if device.etag:
        headers["If-None-Match"] = device.etag
    r = await http.get(f"/device/v3/{device.uuid}/state", headers=headers)
    stats.polls += 1
    if r.status_code == 304:
        stats.unchanged += 1
        return False
    if r.status_code != 200:
        stats.errors.append(f"GET state {r.status_code}")
        return False
    stats.changed += 1
    device.etag, device.target = r.headers.get("etag"), r.json()
    return True


async def report(http: httpx.AsyncClient, device: SimulatedDevice, stats: Stats) -> None:
    r = await http.patch("/device/v3/state", headers=device.headers, json=current_state(device))
    if r.status_code == 200:
        stats.reports += 1
    else:
        stats.errors.append(f"PATCH state {r.status_code}")


async def log(http: httpx.AsyncClient, device: SimulatedDevice, stats: Stats, n: int) -> None:
    r = await http.post(f"/device/v2/{device.uuid}/logs", headers=device.headers,
                        json=[{"message": f"simulated line {n}", "timestamp": int(time.time() * 1000)}])
    if r.status_code == 201:
        stats.logs += 1
    elif r.status_code != 429:
        stats.errors.append(f"POST logs {r.status_code}")


async def run_device(http: httpx.AsyncClient, device: SimulatedDevice, stats: Stats, *, interval: float,
                     until: float, report_every: int = 5, log_every: int = 10) -> None:
    n = 0
    while time.monotonic() < until:
        changed = await poll(http, device, stats)
        if changed or n % report_every == 0:
            await report(http, device, stats)
        if log_every and n % log_every == 0:
            await log(http, device, stats, n)
        n += 1
        await asyncio.sleep(interval)


async def simulate(http: httpx.AsyncClient, *, devices: int, fleet: dict[str, Any], key: str, device_type: str,
                   duration: float, interval: float, concurrency: int = 16) -> Stats:
    stats = Stats()
    gate = asyncio.Semaphore(concurrency)

    async def one() -> SimulatedDevice:
        async with gate:
            return await register(http, fleet, key, device_type, stats)

    fleet_devices = await asyncio.gather(*(one() for _ in range(devices)))
    until = time.monotonic() + duration
    await asyncio.gather(*(run_device(http, d, stats, interval=interval, until=until) for d in fleet_devices))
    return stats
