"""A balena database with two tenants, on SQLite and on PostgreSQL, and the app over it.

`world`: the catalogue (with its public host-OS fleets), users alice and bob — each with
the personal organization of `fleetyard.auth.users` — and in each organization one fleet
with a release, a device and a tag or variable on each of them. Requests carry tokens
minted with the test signing secret (`token_for`); the login tests log in for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

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
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions
from tests.api.conftest import engine_factory, serving
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url

ALL = Permissions.all()
SECRET = "test-signing-secret-" + "x" * 24
AUTH = AuthSettings(jwt_secret=SECRET)
PASSWORD = "correct horse"
START = "2024-05-01T10:00:00.000Z"


@dataclass
class Tenant:
    username: str
    user: int
    actor: int
    organization: int
    jwt_secret: str
    fleet: int = 0
    release: int = 0
    device: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # resource → the id of its row

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(self)}"}


@dataclass
class World:
    alice: Tenant
    bob: Tenant
    public_fleet: int
    public_release: int


def token_for(t: Tenant) -> str:
    return tokens.issue(SECRET, t.user, t.jwt_secret)


@pytest.fixture(autouse=True)
def no_credential_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request looks its credential up: tests change users between requests."""
    monkeypatch.setattr(principals, "CACHE_SECONDS", 0.0)


async def balena_engine(db: Database) -> Engine:
    """The server's engine: the balena model, its catalogue and its business rules."""
    await migrate(db, MODEL, server_migrations(MODEL))
    return Engine(MODEL, db, hooks=server_hooks(MODEL))


async def d(engine: Engine, url: str) -> list:
    return orjson.loads(await engine.get(url, ALL))["d"]


async def one_id(engine: Engine, url: str) -> int:
    rows = await d(engine, url)
    assert rows, url
    return int(rows[0]["id"])


@pytest.fixture
async def engine(database: Database) -> Engine:
    return await balena_engine(database)


async def tenant(engine: Engine, username: str) -> Tenant:
    new = await create_user(engine, username, PASSWORD, email=f"{username}@example.com")
    secret = (await engine.db.fetch_all(
        "SELECT jwt_secret FROM \"user\" WHERE id = " + str(new.id)))[0][0]
    t = Tenant(username, new.id, new.actor, new.organization, str(secret))
    device_type = await one_id(engine, "/device_type?$filter=slug eq 'raspberrypi4-64'")
    t.fleet = (await engine.post("/application", {
        "organization": t.organization, "app_name": "fleet", "is_for__device_type": device_type}, ALL))["id"]
    t.release = (await engine.post("/release", {
        "belongs_to__application": t.fleet, "commit": f"{username}c1", "composition": {},
        "status": "success", "source": "cloud", "start_timestamp": START}, ALL))["id"]
    t.device = (await engine.post("/device", {
        "uuid": f"{t.user:x}".rjust(32, "d"), "device_name": f"{username}-pi",
        "is_of__device_type": device_type, "belongs_to__application": t.fleet}, ALL))["id"]
    for resource, body in (
        ("device_tag", {"device": t.device, "tag_key": "owner", "value": username}),
        ("device_environment_variable", {"device": t.device, "name": "OWNER", "value": username}),
        ("application_tag", {"application": t.fleet, "tag_key": "owner", "value": username}),
        ("application_environment_variable", {"application": t.fleet, "name": "OWNER", "value": username}),
        ("release_tag", {"release": t.release, "tag_key": "owner", "value": username}),
    ):
        t.ids[resource] = (await engine.post(f"/{resource}", body, ALL))["id"]
    t.ids.update(application=t.fleet, release=t.release, device=t.device, organization=t.organization,
                 user=t.user)
    return t


@pytest.fixture
async def world(engine: Engine) -> World:
    alice = await tenant(engine, "alice")
    bob = await tenant(engine, "bob")
    public_fleet = await one_id(engine, "/application?$filter=is_public eq true&$orderby=id&$top=1")
    public_release = await one_id(engine, f"/release?$filter=belongs_to__application eq {public_fleet}")
    return World(alice, bob, public_fleet, public_release)


@pytest.fixture
async def client(engine: Engine, world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(engine_factory(engine), auth=AUTH)) as c:
        yield c


async def new_key(engine: Engine, t: Tenant, **options: object) -> str:
    return await api_keys.create(engine, t.actor, name="test", **options)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database for a command or a server to open by URL: a SQLite file, or a
    schema of its own in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fleetyard.db'}"
        return
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    await db.close()
    try:
        # asyncpg passes unknown URL parameters on as server settings
        yield f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    finally:
        await drop_postgres_schema(url, schema)
