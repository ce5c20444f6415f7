"""An app on the engine's seeded test model, on SQLite and on PostgreSQL, and an httpx
client that talks to it in the test's own event loop (the database fixture's pool lives
there: Starlette's TestClient would run the app on another loop)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette

from fleetyard.api import create_app
from fleetyard.odata.engine import Engine
from tests.odata.seed import seeded


def engine_factory(engine: Engine):
    """A factory that hands out an engine someone else opened (and will close)."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[Engine]:
        yield engine

    return factory


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan around an httpx client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fleetyard.test") as client:
            yield client


@pytest.fixture
async def engine(database) -> Engine:
    return await seeded(database)


@pytest.fixture
async def client(engine) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(engine_factory(engine))) as c:
        yield c
