"""Migrations: applied once, in order, each in its own transaction."""

from __future__ import annotations

import asyncio

import pytest

from fleetyard.db import Database, DatabaseError
from fleetyard.db.migrations import Migration, applied_versions, migrate, model_migrations
from tests.db.aviation import MODEL


async def test_migrate_is_idempotent(database: Database) -> None:
    assert await applied_versions(database) == []
    assert await migrate(database, MODEL) == [1]
    assert await migrate(database, MODEL) == []
    assert await applied_versions(database) == [1]
    assert await database.fetch_value('SELECT count(*) FROM "pilot"') == 0
    rows = await database.fetch_all("SELECT version, name, applied_at FROM fleetyard_migration")
    assert len(rows) == 1 and rows[0][0] == 1 and rows[0][2] is not None


async def test_concurrent_migrations_apply_once(database: Database) -> None:
    results = await asyncio.gather(*(migrate(database, MODEL) for _ in range(3)))
    assert sorted(results) == [[], [], [1]]


async def test_later_migrations_run_in_order(database: Database) -> None:
    seen: list[int] = []

    def step(version: int, statement: str) -> Migration:
        def statements(dialect: str) -> list[str]:
            seen.append(version)
            return [statement]

        return Migration(version, f"step {version}", statements)

    later = [
        step(3, 'CREATE INDEX "pilot_age_idx" ON "pilot" ("age")'),
        step(2, 'ALTER TABLE "pilot" ADD COLUMN "nickname" TEXT'),
    ]
    assert await migrate(database, MODEL, model_migrations(MODEL) + later) == [1, 2, 3]
    assert seen == [2, 3]
    await database.execute('INSERT INTO "pilot" ("name", "nickname") VALUES (\'Ann\', \'A\')')
    assert await migrate(database, MODEL, model_migrations(MODEL) + later) == []


async def test_a_failing_migration_leaves_nothing_behind(database: Database) -> None:
    broken = Migration(2, "broken", lambda d: ['CREATE TABLE "extra" ("a" INTEGER)', "CREATE TABLE oops ("])
    with pytest.raises(DatabaseError):
        await migrate(database, MODEL, model_migrations(MODEL) + [broken])
    assert await applied_versions(database) == [1]
    with pytest.raises(DatabaseError):
        await database.fetch_all('SELECT * FROM "extra"')
    fixed = Migration(2, "fixed", lambda d: ['CREATE TABLE "extra" ("a" INTEGER)'])
    assert await migrate(database, MODEL, model_migrations(MODEL) + [fixed]) == [2]


async def test_versions_must_be_distinct(database: Database) -> None:
    twice = model_migrations(MODEL) * 2
    with pytest.raises(ValueError):
        await migrate(database, MODEL, twice)
