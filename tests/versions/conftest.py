"""A balena world for comparing /v6 and /v7 over HTTP, on SQLite and on PostgreSQL.

The server's engine (catalogue, rules) with users alice and bob (`tests/auth/conftest.py`:
each a personal organization, a fleet, a release, a device), and for alice what the
version differences need: a second release and a draft, devices in known connectivity
states, a history row, an image with a size, a release contract, and a public supervisor
fleet `balena_os/aarch64-supervisor` with a release and its image. Requests go as alice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from fleetyard.api import create_app
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions
from tests.api.conftest import engine_factory, serving
from tests.auth.conftest import AUTH, START, Tenant, balena_engine, tenant

ALL = Permissions.all()
LATER = "2024-06-01T10:00:00.000Z"
BIG = 3_000_000_000  # an image size past 2^31: v7 answers it as a string
CONTRACT = {"name": "fleetyard", "requires": [{"type": "sw.os", "version": ">=2.0"}]}

# device → (api_heartbeat_state, is_connected_to_vpn): states whose v6 and v7 statuses differ
STATES: dict[str, tuple[str, bool]] = {
    "offline": ("offline", False),  # v6 offline, v7 disconnected
    "online": ("online", True),  # v6 idle, v7 operational
    "half": ("offline", True),  # v6 idle, v7 reduced-functionality
}


@dataclass
class World:
    engine: Engine
    alice: Tenant
    bob: Tenant
    ids: dict[str, Any] = field(default_factory=dict)

    async def d(self, url: str) -> Any:
        return orjson.loads(await self.engine.get(url, ALL))["d"]

    async def post(self, url: str, body: dict) -> int:
        return int((await self.engine.post(url, body, ALL, {"__ACTOR_ID": self.alice.actor}))["id"])

    async def patch(self, url: str, body: dict) -> None:
        await self.engine.patch(url, body, ALL, {"__ACTOR_ID": self.alice.actor})


async def _release(w: World, fleet: int, commit: str, **extra: Any) -> int:
    return await w.post("/release", {"belongs_to__application": fleet, "commit": commit, "composition": {},
                                     "status": "success", "source": "cloud", "start_timestamp": START, **extra})


async def _image(w: World, fleet: int, release: int, location: str, size: int | None) -> int:
    services = await w.d(f"/service?$select=id&$filter=application eq {fleet} and service_name eq 'main'")
    service = services[0]["id"] if services else await w.post(
        "/service", {"application": fleet, "service_name": "main"})
    image = await w.post("/image", {"is_a_build_of__service": service, "start_timestamp": START,
                                    "is_stored_at__image_location": location, "status": "success",
                                    "image_size": size})
    await w.post("/release_image", {"image": image, "is_part_of__release": release})
    return image


async def build(engine: Engine) -> World:
    w = World(engine, await tenant(engine, "alice"), await tenant(engine, "bob"))
    a = w.alice
    ids = w.ids
    ids.update(fleet=a.fleet, release=a.release, device=a.device, organization=a.organization,
               user=a.user, actor=a.actor, bob_fleet=w.bob.fleet)
    ids["fleet_actor"] = (await w.d(f"/application({a.fleet})?$select=actor"))[0]["actor"]["__id"]
    ids["device_actor"] = (await w.d(f"/device({a.device})?$select=actor"))[0]["actor"]["__id"]
    device_type = (await w.d(f"/application({a.fleet})?$select=is_for__device_type"))[0]
    ids["device_type"] = device_type["is_for__device_type"]["__id"]
    # a second, later release: the fleet tracks it; the first one is what pins name
    ids["latest"] = await _release(w, a.fleet, "alicec2", start_timestamp=LATER, semver="1.1.0",
                                   contract=CONTRACT)
    ids["draft"] = await _release(w, a.fleet, "alicec3", is_final=False)
    ids["image"] = await _image(w, a.fleet, ids["latest"], "registry/alice/main:2", BIG)
    for name, (heartbeat, vpn) in STATES.items():
        ids[name] = await w.post("/device", {"belongs_to__application": a.fleet, "device_name": name,
                                             "is_of__device_type": ids["device_type"]})
        await w.patch(f"/device({ids[name]})", {"api_heartbeat_state": heartbeat, "is_connected_to_vpn": vpn,
                                                "last_connectivity_event": START})
    # a device pinned to the first release; alice's own device tracks the fleet
    ids["pinned"] = await w.post("/device", {"belongs_to__application": a.fleet, "device_name": "pinned",
                                             "is_of__device_type": ids["device_type"],
                                             "is_pinned_on__release": a.release})
    ids["history"] = await w.post("/device_history", {
        "tracks__device": ids["pinned"], "tracks__actor": a.actor, "is_of__device_type": ids["device_type"],
        "belongs_to__application": a.fleet, "is_pinned_on__release": a.release, "uuid": "ab" * 16})
    await supervisor_fleet(w)
    return w


async def supervisor_fleet(w: World) -> None:
    """decisions.md: supervisor releases are releases of the public fleet
    `balena_os/<arch>-supervisor` (the catalogue's `balena_os` organization)."""
    org = (await w.d("/organization?$select=id&$filter=handle eq 'balena_os'"))[0]["id"]
    fleet = await w.post("/application", {"organization": org, "app_name": "aarch64-supervisor",
                                          "is_for__device_type": w.ids["device_type"], "is_public": True})
    release = await _release(w, fleet, "supervisor1", semver="14.11.2", note="the supervisor")
    await _image(w, fleet, release, "registry/balena_os/aarch64-supervisor:14.11.2", 1000)
    w.ids.update(supervisor_fleet=fleet, supervisor=release)


@pytest.fixture
async def world(database) -> World:
    return await build(await balena_engine(database))


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(engine_factory(world.engine), auth=AUTH)) as c:
        c.headers.update(world.alice.headers)
        yield c
