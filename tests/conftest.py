"""Shared fixtures: `database`, a fresh empty database on SQLite and on PostgreSQL.

Every test that touches a database runs on both (DESIGN.md). PostgreSQL comes from
FLEETYARD_TEST_POSTGRES_URL, each test in a schema of its own that is dropped afterwards.
Without the URL the PostgreSQL half is skipped on a developer's machine, but fails under CI:
CI never passes by skipping half the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from fleetyard.db import Database, connect

POSTGRES_URL_VAR = "FLEETYARD_TEST_POSTGRES_URL"

# Shared machines are noisy: a deadline turns a slow moment into a failure.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def postgres_url() -> str:
    """The test server's URL; skips the test (fails it under CI) when none is set."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_URL_VAR} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{POSTGRES_URL_VAR} is not set")
    return url


async def open_postgres_schema(url: str) -> tuple[Database, str]:
    """A pool whose connections all use a new empty schema."""
    import asyncpg

    schema = "fy_test_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    db = await connect(url, pool_size=4, server_settings={"search_path": schema})
    return db, schema


async def drop_postgres_schema(url: str, schema: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, empty database of each dialect (`database.dialect` says which)."""
    dialect = request.param
    if dialect == "sqlite":
        db = await connect(f"sqlite:///{tmp_path / 'test.db'}")
        try:
            yield db
        finally:
            await db.close()
        return
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    try:
        yield db
    finally:
        await db.close()
        await drop_postgres_schema(url, schema)
