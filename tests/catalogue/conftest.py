"""A fresh database migrated as the server migrates it (schema, then the catalogue), on
SQLite and PostgreSQL, and an httpx client on an app over it in the test's own loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fleetyard.api import callers, create_app
from fleetyard.api.app import server_migrations
from fleetyard.db import Database
from fleetyard.db.migrations import migrate
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from tests.api.conftest import engine_factory, serving


async def read(client: httpx.AsyncClient, url: str) -> list[dict]:
    """The `d` of a GET that must succeed."""
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.json()["d"]


@pytest.fixture
async def engine(database: Database) -> Engine:
    assert await migrate(database, MODEL, server_migrations(MODEL)) == [1, 2]
    return Engine(MODEL, database)


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    # Every caller a superuser: these tests are about the rows, not about who sees them.
    async with serving(create_app(engine_factory(engine), caller=callers.caller)) as c:
        yield c
