"""A small balena world with the domain rules on, on SQLite and on PostgreSQL.

Everything is written through an Engine on the balena model with `HOOKS`, as a superuser
whose actor is 1 (user alice): cpu architectures, device types, the Default application
type and two organizations (1 `acme`, 2 `other`). Tests add fleets, releases and devices
through the helpers below, so every row went through the rules.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from fleetyard.db.migrations import migrate
from fleetyard.domain import HOOKS
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()
CTX = {"__ACTOR_ID": 1}
START = "2024-05-01T10:00:00.000Z"

# slug → (name, cpu architecture); ids in this order from 1
DEVICE_TYPES = {
    "raspberrypi4-64": "aarch64",  # 1
    "raspberrypi3": "armv7hf",  # 2
    "intel-nuc": "amd64",  # 3
    "raspberry-pi": "rpi",  # 4
    "jetson-orin-nano-devkit-nvme": "aarch64",  # 5
}


class World:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.commits = 0

    async def d(self, url: str) -> Any:
        return orjson.loads(await self.engine.get(url, ALL, CTX))["d"]

    async def one(self, url: str) -> dict:
        (row,) = await self.d(url)
        return row

    async def post(self, url: str, body: dict) -> dict:
        return await self.engine.post(url, body, ALL, CTX)

    async def patch(self, url: str, body: dict) -> int:
        return await self.engine.patch(url, body, ALL, CTX)

    async def delete(self, url: str) -> int:
        return await self.engine.delete(url, ALL, CTX)

    async def fleet(self, app_name: str, *, organization: int = 1, device_type: int = 1, **extra: Any) -> dict:
        return await self.post("/application", {
            "app_name": app_name, "organization": organization, "is_for__device_type": device_type, **extra})

    async def release(self, fleet: int, **fields: Any) -> dict:
        """A successful final release of a commit of its own (a fleet builds each once)."""
        self.commits += 1
        body = {"belongs_to__application": fleet, "commit": f"{self.commits:040x}", "composition": {},
                "status": "success", "source": "cloud", "start_timestamp": START}
        return await self.post("/release", {**body, **fields})

    async def device(self, fleet: int | None, *, device_type: int = 1, **fields: Any) -> dict:
        return await self.post("/device", {"belongs_to__application": fleet, "is_of__device_type": device_type,
                                           **fields})

    async def target(self, fleet: int) -> int | None:
        row = await self.one(f"/application({fleet})?$select=should_be_running__release")
        ref = row["should_be_running__release"]
        return ref and ref["__id"]


@pytest.fixture
async def world(database) -> World:
    await migrate(database, MODEL)
    w = World(Engine(MODEL, database, hooks=HOOKS))
    arches: dict[str, int] = {}
    for arch in dict.fromkeys(DEVICE_TYPES.values()):
        arches[arch] = (await w.post("/cpu_architecture", {"slug": arch}))["id"]
    for slug, arch in DEVICE_TYPES.items():
        await w.post("/device_type", {"slug": slug, "name": slug.title(), "is_of__cpu_architecture": arches[arch]})
    await w.post("/application_type", {"name": "Default", "slug": "default", "supports_multicontainer": True})
    await w.post("/actor", {})
    await w.post("/user", {"actor": 1, "username": "alice"})
    await w.post("/organization", {"name": "Acme", "handle": "acme"})
    await w.post("/organization", {"name": "Other", "handle": "other"})
    return w
