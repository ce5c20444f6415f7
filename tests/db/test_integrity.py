"""Constraint failures become IntegrityViolation(kind, table, columns) on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetyard.db import Database, DatabaseError, IntegrityViolation, connect
from tests.db.util import sql, with_aviation


async def _seed(db: Database) -> tuple[int, int]:
    """A pilot and a plane she flies; their ids."""
    pilot = await db.fetch_value(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?) RETURNING "id"'), ["Ann"])
    plane = await db.fetch_value(
        sql(db, 'INSERT INTO "plane" ("name", "is_flown_by__pilot") VALUES (?, ?) RETURNING "id"'),
        ["Kitty", pilot],
    )
    return int(pilot), int(plane)  # type: ignore[call-overload]


async def _violation(coro: object) -> IntegrityViolation:
    with pytest.raises(IntegrityViolation) as info:
        await coro  # type: ignore[misc]
    return info.value


async def test_unique(database: Database) -> None:
    db = await with_aviation(database)
    await _seed(db)
    v = await _violation(db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"]))
    assert (v.kind, v.table, v.columns) == ("unique", "pilot", ("name",))
    assert isinstance(v, DatabaseError) and v.detail


async def test_composite_unique(database: Database) -> None:
    db = await with_aviation(database)
    pilot, _ = await _seed(db)
    insert = sql(db, 'INSERT INTO "plane" ("name", "is_flown_by__pilot") VALUES (?, ?)')
    v = await _violation(db.execute(insert, ["Kitty", pilot]))
    assert (v.kind, v.table, v.columns) == ("unique", "plane", ("is_flown_by__pilot", "name"))


async def test_unique_primary_key(database: Database) -> None:
    db = await with_aviation(database)
    pilot, _ = await _seed(db)
    v = await _violation(db.execute(sql(db, 'INSERT INTO "pilot" ("id", "name") VALUES (?, ?)'), [pilot, "Bo"]))
    assert (v.kind, v.table, v.columns) == ("unique", "pilot", ("id",))


async def test_not_null(database: Database) -> None:
    db = await with_aviation(database)
    v = await _violation(db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), [None]))
    assert (v.kind, v.table, v.columns) == ("not_null", "pilot", ("name",))


async def test_foreign_key_on_insert(database: Database) -> None:
    db = await with_aviation(database)
    pilot, plane = await _seed(db)
    insert = sql(db, 'INSERT INTO "licence" ("is_of__pilot", "is_for__plane", "code") VALUES (?, ?, ?)')
    v = await _violation(db.execute(insert, [pilot, plane + 100, "A"]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "licence", ("is_for__plane",))
    v = await _violation(db.execute(insert, [pilot + 100, plane, "A"]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "licence", ("is_of__pilot",))
    assert await db.execute(insert, [pilot, plane, "A"]) == 1


async def test_foreign_key_on_update(database: Database) -> None:
    db = await with_aviation(database)
    pilot, plane = await _seed(db)
    update = sql(db, 'UPDATE "pilot" SET "likes__plane" = ? WHERE "id" = ?')
    v = await _violation(db.execute(update, [plane + 5, pilot]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "pilot", ("likes__plane",))
    assert await db.execute(update, [plane, pilot]) == 1


async def test_foreign_key_self_reference(database: Database) -> None:
    db = await with_aviation(database)
    pilot, _ = await _seed(db)
    insert = sql(db, 'INSERT INTO "pilot" ("name", "was_trained_by__pilot") VALUES (?, ?)')
    v = await _violation(db.execute(insert, ["Bo", pilot + 9]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "pilot", ("was_trained_by__pilot",))
    assert await db.execute(insert, ["Bo", pilot]) == 1


async def test_deleting_a_referenced_row_names_the_reference(database: Database) -> None:
    db = await with_aviation(database)
    pilot, plane = await _seed(db)
    v = await _violation(db.execute(sql(db, 'DELETE FROM "pilot" WHERE "id" = ?'), [pilot]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "plane", ("is_flown_by__pilot",))
    await db.execute(sql(db, 'INSERT INTO "licence" ("is_of__pilot", "is_for__plane", "code") VALUES (?, ?, ?)'),
                     [pilot, plane, "A"])
    v = await _violation(db.execute(sql(db, 'DELETE FROM "plane" WHERE "id" = ?'), [plane]))
    assert (v.kind, v.table, v.columns) == ("foreign_key", "licence", ("is_for__plane",))
    # Nothing was deleted, and once the references are gone the deletes go through.
    assert await db.fetch_value('SELECT count(*) FROM "plane"') == 1
    await db.execute('DELETE FROM "licence"')
    await db.execute('DELETE FROM "plane"')
    assert await db.execute(sql(db, 'DELETE FROM "pilot" WHERE "id" = ?'), [pilot]) == 1


async def test_foreign_key_inside_a_transaction(database: Database) -> None:
    db = await with_aviation(database)
    pilot, _ = await _seed(db)
    with pytest.raises(IntegrityViolation) as info:
        async with db.transaction() as tx:
            await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Bo"])
            await tx.execute(sql(db, 'DELETE FROM "pilot" WHERE "id" = ?'), [pilot])
    assert (info.value.table, info.value.columns) == ("plane", ("is_flown_by__pilot",))
    assert await db.fetch_all('SELECT "name" FROM "pilot"') == [("Ann",)]


async def test_check(database: Database) -> None:
    db = database
    await db.execute_script(['CREATE TABLE "gauge" ("id" INTEGER PRIMARY KEY, "level" INTEGER '
                             'CONSTRAINT "gauge.level" CHECK ("level" >= 0))'])
    v = await _violation(db.execute(sql(db, 'INSERT INTO "gauge" ("id", "level") VALUES (?, ?)'), [1, -1]))
    assert (v.kind, v.table, v.columns) == ("check", "gauge", ("level",))


async def test_short_text_limit(database: Database) -> None:
    db = await with_aviation(database)
    insert = sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)')
    assert await db.execute(insert, ["x" * 20]) == 1
    if db.dialect == "sqlite":
        v = await _violation(db.execute(insert, ["y" * 21]))
        assert (v.kind, v.table, v.columns) == ("check", "pilot", ("name",))
    else:
        # VARCHAR(20) refuses it while converting the value, before any constraint runs,
        # and PostgreSQL names no column then: the value layer checks lengths first.
        with pytest.raises(DatabaseError) as info:
            await db.execute(insert, ["y" * 21])
        assert info.value.sqlstate == "22001"


async def test_sqlite_boolean_and_type_checks(tmp_path: Path) -> None:
    """SQLite's own checks, standing in for PostgreSQL's real booleans and column types."""
    db = await with_aviation(await connect(f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        v = await _violation(db.execute('INSERT INTO "pilot" ("name", "is_experienced") VALUES (?, ?)', ["A", 2]))
        assert (v.kind, v.table, v.columns) == ("check", "pilot", ("is_experienced",))
        v = await _violation(db.execute('INSERT INTO "pilot" ("name", "age") VALUES (?, ?)', ["A", "old"]))
        assert (v.kind, v.table, v.columns) == ("check", "pilot", ("age",))
    finally:
        await db.close()
