"""A balena world for the device side, on SQLite and on PostgreSQL, and the app over it.

`world`: the catalogue, a user alice (with her personal organization) and her fleet
`myfleet` of Raspberry Pi 4s, with a provisioning key, a successful release of one
service `main` (an image with a label and a variable) that the fleet targets, and a
user bob in another organization. `register(client, world)` registers a device the way
a supervisor does. Timings are short: a poll interval of at least 300 ms and a grace
period of 200 ms, so a device goes online → timeout → offline within a second.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from fleetyard.api import create_app
from fleetyard.api.app import server_hooks, server_migrations
from fleetyard.auth import api_keys, principals, tokens
from fleetyard.auth.bootstrap import AuthSettings
from fleetyard.auth.users import create_user
from fleetyard.db import Database
from fleetyard.db.migrations import migrate
from fleetyard.device import DeviceSettings
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()
SECRET = "device-test-signing-secret-" + "y" * 24
PASSWORD = "correct horse battery"
START = "2024-05-01T10:00:00.000Z"
VPN_KEY = "vpn-service-key-for-tests"
FAST = DeviceSettings(min_poll_interval_ms=300, heartbeat_grace_ms=200, vpn_service_api_key=VPN_KEY,
                      deleted_device_logs_delay_ms=50)
COMPOSITION = {"services": {"main": {"build": ".", "restart": "always", "network_mode": "host"}},
               "volumes": {"data": {}}}


@dataclass
class User:
    id: int
    actor: int
    organization: int
    jwt_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.issue(SECRET, self.id, self.jwt_secret)}"}


@dataclass
class World:
    engine: Engine
    alice: User
    bob: User
    fleet: int
    fleet_uuid: str
    device_type: int
    provisioning_key: str
    release: int
    commit: str
    service: int
    image: int
    image_location: str
    extra: dict[str, Any] = field(default_factory=dict)

    async def d(self, url: str) -> Any:
        return orjson.loads(await self.engine.get(url, ALL))["d"]

    async def one(self, url: str) -> dict[str, Any]:
        (row,) = await self.d(url)
        return row

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.engine.post(url, body, ALL, {"__ACTOR_ID": self.alice.actor})

    async def patch(self, url: str, body: dict[str, Any]) -> int:
        return await self.engine.patch(url, body, ALL, {"__ACTOR_ID": self.alice.actor})

    async def new_release(self, commit: str, *, image_env: dict[str, str] | None = None) -> tuple[int, int, str]:
        """A successful release of `main` with an image of its own: (release, image, location)."""
        location = f"registry.example/v2/{uuidlib.uuid4().hex}"
        image = (await self.post("/image", {
            "is_a_build_of__service": self.service, "start_timestamp": START, "push_timestamp": START,
            "status": "success", "is_stored_at__image_location": location, "content_hash": "sha256:ABC"}))["id"]
        release = (await self.post("/release", {
            "belongs_to__application": self.fleet, "commit": commit, "composition": COMPOSITION,
            "status": "success", "source": "cloud", "start_timestamp": START}))["id"]
        link = (await self.post("/release_image", {"image": image, "is_part_of__release": release}))["id"]
        for name, value in (image_env or {}).items():
            await self.post("/image_environment_variable", {"release_image": link, "name": name, "value": value})
        return release, image, location


@pytest.fixture(autouse=True)
def no_credential_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(principals, "CACHE_SECONDS", 0.0)


async def balena_engine(db: Database) -> Engine:
    await migrate(db, MODEL, server_migrations(MODEL))
    return Engine(MODEL, db, hooks=server_hooks(MODEL))


async def _user(engine: Engine, name: str) -> User:
    new = await create_user(engine, name, PASSWORD, email=f"{name}@example.com")
    secret = (await engine.db.fetch_all(f'SELECT jwt_secret FROM "user" WHERE id = {int(new.id)}'))[0][0]
    return User(new.id, new.actor, new.organization, str(secret))


async def make_world(engine: Engine) -> World:
    alice, bob = await _user(engine, "alice"), await _user(engine, "bob")
    ctx = {"__ACTOR_ID": alice.actor}
    (dt,) = orjson.loads(await engine.get("/device_type?$filter=slug eq 'raspberrypi4-64'&$select=id", ALL))["d"]
    fleet = await engine.post("/application", {"organization": alice.organization, "app_name": "myfleet",
                                               "is_for__device_type": dt["id"]}, ALL, ctx)
    key = await api_keys.create(engine, fleet["actor"]["__id"], name="provisioning")
    service = (await engine.post("/service", {"application": fleet["id"], "service_name": "main"}, ALL, ctx))["id"]
    w = World(engine, alice, bob, fleet["id"], fleet["uuid"], dt["id"], key, 0, "", service, 0, "")
    await w.post("/service_label", {"service": service, "label_name": "io.balena.features.dbus", "value": "1"})
    await w.post("/service_environment_variable", {"service": service, "name": "LEVEL", "value": "service"})
    w.commit = "a" * 32
    w.release, w.image, w.image_location = await w.new_release(w.commit, image_env={"LEVEL": "image", "IMG": "1"})
    await w.patch(f"/application({w.fleet})", {"should_be_running__release": w.release})
    return w


@pytest.fixture
async def world(database: Database) -> World:
    return await make_world(await balena_engine(database))


@asynccontextmanager
async def serving(engine: Engine, settings: DeviceSettings = FAST) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_factory(engine), auth=AuthSettings(jwt_secret=SECRET), device=settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fleetyard.test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def _factory(engine: Engine):
    @asynccontextmanager
    async def factory() -> AsyncIterator[Engine]:
        yield engine

    return factory


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(world.engine) as c:
        yield c


@dataclass
class Device:
    id: int
    uuid: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def register(client: httpx.AsyncClient, w: World, **extra: Any) -> Device:
    uuid = uuidlib.uuid4().hex
    r = await client.post("/device/register", headers={"Authorization": f"Bearer {w.provisioning_key}"},
                          json={"application": w.fleet, "device_type": "raspberrypi4-64", "uuid": uuid, **extra})
    assert r.status_code == 201, r.text
    body = r.json()
    return Device(body["id"], uuid, body["api_key"])


async def device_row(w: World, device_id: int, select: str) -> dict[str, Any]:
    return await w.one(f"/device({device_id})?$select={select}")
