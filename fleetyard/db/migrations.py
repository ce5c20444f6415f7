"""Numbered schema migrations, recorded in the table `fleetyard_migration`.

Migration 1 is the DDL generated from the model (`model.ddl`); every later change is a new
numbered migration, applied in order (spec/decisions.md "Running it"). A migration is SQL
statements, a data step (`run`: rows written through the engine, e.g. the catalogue), or
both. `migrate()` applies what is missing, each migration in its own transaction, and may
run from several processes at once: PostgreSQL serialises them with an advisory lock,
SQLite with BEGIN IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fleetyard.db.base import Database, Transaction
from fleetyard.model.ddl import SQLITE_NOW, ddl
from fleetyard.model.schema import Model

TABLE = "fleetyard_migration"
_LOCK_KEY = 0x666C_7964  # any constant: "flyd"

_CREATE = {
    "postgres": f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "sqlite": f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY, "
    f"name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT {SQLITE_NOW}) STRICT",
}


def _no_statements(dialect: str) -> Sequence[str]:
    return ()


# A data step: runs after the migration's statements, inside its transaction (`tx`), so the
# rows it writes and the migration's record commit together. `db` gives the dialect and is
# what an Engine is built on; the step writes through `tx` (the engine's `tx=` argument).
DataStep = Callable[[Database, Transaction], Awaitable[None]]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str], Sequence[str]] = _no_statements  # dialect → SQL statements
    run: DataStep | None = None


def model_migrations(model: Model) -> list[Migration]:
    """The migrations of `model`: for now the one that creates its tables."""
    return [Migration(1, "create the model's tables", lambda dialect: ddl(model, dialect))]


def _placeholder(db: Database, n: int) -> str:
    return f"${n}" if db.dialect == "postgres" else "?"


async def _prepare(db: Database, tx: Transaction) -> None:
    if db.dialect == "postgres":
        # Held until the transaction ends; a second migrating process waits here and then
        # sees the first one's rows.
        await tx.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    await tx.execute(_CREATE[db.dialect])


async def applied_versions(db: Database) -> list[int]:
    """The versions recorded in the database, ascending (creating the table if needed)."""
    async with db.transaction() as tx:
        await _prepare(db, tx)
        rows = await tx.fetch_all(f"SELECT version FROM {TABLE} ORDER BY version")
    return [int(r[0]) for r in rows]  # type: ignore[call-overload]


async def migrate(
    db: Database, model: Model, migrations: Sequence[Migration] | None = None
) -> list[int]:
    """Apply the migrations (by default `model_migrations(model)`) that the database has
    not recorded yet; the versions applied now, ascending. Running it again applies none."""
    todo = sorted(migrations if migrations is not None else model_migrations(model),
                  key=lambda m: m.version)
    versions = [m.version for m in todo]
    if len(set(versions)) != len(versions) or any(v < 1 for v in versions):
        raise ValueError(f"migration versions must be distinct and positive: {versions}")
    done = set(await applied_versions(db))
    applied: list[int] = []
    for m in todo:
        if m.version in done:
            continue
        async with db.transaction() as tx:
            await _prepare(db, tx)
            p1 = _placeholder(db, 1)
            if await tx.fetch_value(f"SELECT 1 FROM {TABLE} WHERE version = {p1}", [m.version]):
                continue  # another process applied it while we waited for the lock
            for statement in m.statements(db.dialect):
                await tx.execute(statement)
            if m.run is not None:
                await m.run(db, tx)
            await tx.execute(
                f"INSERT INTO {TABLE} (version, name) VALUES ({p1}, {_placeholder(db, 2)})",
                [m.version, m.name],
            )
        applied.append(m.version)
    return applied
