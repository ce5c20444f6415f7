"""Data migrations: a migration's `run` step writes rows in the migration's transaction, so
its rows and its record commit together or not at all, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from fleetyard.db import Database, DatabaseError, Transaction
from fleetyard.db.migrations import Migration, applied_versions, migrate, model_migrations
from tests.db.aviation import MODEL


async def _pilots(db: Database) -> list[str]:
    return [str(r[0]) for r in await db.fetch_all("SELECT name FROM pilot ORDER BY name")]


def _insert(db: Database) -> str:
    p = "$1" if db.dialect == "postgres" else "?"
    return f"INSERT INTO pilot (name, age) VALUES ({p}, 30)"


async def test_a_data_step_runs_once_in_the_migration_transaction(database: Database) -> None:
    calls: list[str] = []

    async def seed(db: Database, tx: Transaction) -> None:
        calls.append(db.dialect)
        await tx.execute(_insert(db), ["Amelia"])

    todo = model_migrations(MODEL) + [Migration(2, "seed a pilot", run=seed)]
    assert await migrate(database, MODEL, todo) == [1, 2]
    assert await migrate(database, MODEL, todo) == []
    assert calls == [database.dialect]
    assert await _pilots(database) == ["Amelia"]


async def test_a_failing_data_step_leaves_no_rows_and_no_record(database: Database) -> None:
    async def broken(db: Database, tx: Transaction) -> None:
        await tx.execute(_insert(db), ["Bessie"])
        raise RuntimeError("the step failed halfway")

    with pytest.raises(RuntimeError):
        await migrate(database, MODEL, model_migrations(MODEL) + [Migration(2, "broken", run=broken)])
    assert await applied_versions(database) == [1]
    assert await _pilots(database) == []


async def test_statements_and_a_data_step_together(database: Database) -> None:
    async def seed(db: Database, tx: Transaction) -> None:
        await tx.execute(_insert(db), ["Jean"])

    both = Migration(2, "index and seed", lambda d: ["CREATE INDEX pilot_age ON pilot (age)"], seed)
    assert await migrate(database, MODEL, model_migrations(MODEL) + [both]) == [1, 2]
    assert await _pilots(database) == ["Jean"]
    with pytest.raises(DatabaseError):  # the index exists: the statement ran
        await database.execute("CREATE INDEX pilot_age ON pilot (age)")
