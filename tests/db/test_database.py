"""The Database interface on both databases: reads, writes, values, transactions."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import orjson
import pytest

from fleetyard.db import Database, DatabaseError, IntegrityViolation
from tests.db.util import date_param, sql, with_aviation

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_empty_reads(database: Database) -> None:
    await database.execute_script(["CREATE TABLE t (a INTEGER, b TEXT)"])
    assert await database.fetch_value("SELECT a FROM t") is None
    assert await database.fetch_all("SELECT a, b FROM t") == []


async def test_execute_counts_rows(database: Database) -> None:
    db = database
    await db.execute_script(["CREATE TABLE t (a INTEGER, b TEXT)"])
    assert await db.execute(sql(db, "INSERT INTO t (a, b) VALUES (?, ?)"), [1, "x"]) == 1
    assert await db.execute(sql(db, "INSERT INTO t (a, b) VALUES (?, ?)"), [2, "y"]) == 1
    assert await db.execute(sql(db, "UPDATE t SET b = ? WHERE a > ?"), ["z", 0]) == 2
    assert await db.execute(sql(db, "DELETE FROM t WHERE a = ?"), [7]) == 0
    assert await db.fetch_all("SELECT a, b FROM t ORDER BY a") == [(1, "z"), (2, "z")]
    assert await db.execute(sql(db, "DELETE FROM t WHERE a = ?"), [1]) == 1


async def test_insert_returning_through_fetch_value(database: Database) -> None:
    db = await with_aviation(database)
    first = await db.fetch_value(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?) RETURNING "id"'), ["Ann"])
    second = await db.fetch_value(
        sql(db, 'WITH x AS (SELECT 1) INSERT INTO "pilot" ("name") VALUES (?) RETURNING "id"'), ["Bo"]
    )
    assert (first, second) == (1, 2)
    assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 2


async def test_values_round_trip(database: Database) -> None:
    db = await with_aviation(database)
    born = dt.datetime(1990, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)
    prefs = {"seat": "window", "snacks": [1, 2.5, None, True], "ü": "é"}
    big = 2**62 + 7
    pilot_id = await db.fetch_value(
        sql(
            db,
            'INSERT INTO "pilot" ("name", "age", "flight_hours", "rating", "is_experienced", '
            '"born_on", "biography", "preferences") VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING "id"',
        ),
        ["Ann", 41, big, 4.75, True, date_param(db, born), "ünïcode ✈", orjson.dumps(prefs).decode()],
    )
    row = (
        await db.fetch_all(
            sql(
                db,
                'SELECT "name", "age", "flight_hours", "rating", "is_experienced", "is_certified", '
                '"born_on", "biography", "preferences", "created_at" FROM "pilot" WHERE "id" = ?',
            ),
            [pilot_id],
        )
    )[0]
    name, age, hours, rating, experienced, certified, born_on, bio, prefs_text, created = row
    assert (name, age, hours, rating, bio) == ("Ann", 41, big, 4.75, "ünïcode ✈")
    assert bool(experienced) is True and bool(certified) is True  # default TRUE
    assert isinstance(prefs_text, str) and orjson.loads(prefs_text) == prefs
    if db.dialect == "sqlite":
        assert experienced == 1 and born_on == "1990-02-03T04:05:06.789Z"
        assert isinstance(created, str) and ISO_MS_Z.match(created)
    else:
        assert experienced is True and born_on == born
        assert isinstance(created, dt.datetime) and created.tzinfo is not None


async def test_defaults_apply(database: Database) -> None:
    db = await with_aviation(database)
    await db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"])
    row = (await db.fetch_all('SELECT "flight_hours", "is_experienced", "is_certified", "biography" FROM "pilot"'))[0]
    assert (row[0], bool(row[1]), bool(row[2]), row[3]) == (0, False, True, "none yet")


async def test_database_builds_json_text(database: Database) -> None:
    db = await with_aviation(database)
    await db.execute(sql(db, 'INSERT INTO "pilot" ("name", "preferences") VALUES (?, ?)'), ["Ann", '{"a": [1]}'])
    if db.dialect == "postgres":
        query = 'SELECT json_build_object(\'name\', "name", \'p\', "preferences") FROM "pilot"'
        agg = 'SELECT COALESCE(json_agg("name"), \'[]\') FROM "pilot"'
    else:
        query = 'SELECT json_object(\'name\', "name", \'p\', json("preferences")) FROM "pilot"'
        agg = 'SELECT json_group_array("name") FROM "pilot"'
    text = await db.fetch_value(query)
    assert isinstance(text, str) and orjson.loads(text) == {"name": "Ann", "p": {"a": [1]}}
    assert isinstance(await db.fetch_value(agg), str)
    assert isinstance(await db.fetch_value('SELECT "preferences" FROM "pilot"'), str)


async def test_other_errors_are_database_errors(database: Database) -> None:
    db = database
    for bad in ("SELEKT 1", "SELECT * FROM nowhere", "INSERT INTO nowhere VALUES (1)"):
        with pytest.raises(DatabaseError) as info:
            await db.fetch_all(bad)
        assert type(info.value) is DatabaseError and info.value.sqlstate
    with pytest.raises(DatabaseError):
        await db.execute("SELECT * FROM nowhere")


async def test_transaction_commits(database: Database) -> None:
    db = await with_aviation(database)
    async with db.transaction() as tx:
        await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"])
        assert await tx.fetch_value('SELECT count(*) FROM "pilot"') == 1
        assert await tx.fetch_all('SELECT "name" FROM "pilot"') == [("Ann",)]
        # Outside the transaction nothing is visible yet.
        assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 0
    assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 1


async def test_transaction_rolls_back_on_exception(database: Database) -> None:
    db = await with_aviation(database)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"])
            raise RuntimeError("business rule says no")
    assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 0
    # The database is usable afterwards, for transactions and single statements.
    async with db.transaction() as tx:
        await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Bo"])
    assert await db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Cy"]) == 1
    assert await db.fetch_all('SELECT "name" FROM "pilot" ORDER BY "id"') == [("Bo",), ("Cy",)]


async def test_transaction_rolls_back_on_cancel(database: Database) -> None:
    db = await with_aviation(database)
    inserted = asyncio.Event()

    async def work() -> None:
        async with db.transaction() as tx:
            await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"])
            inserted.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(work())
    await inserted.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 0
    assert await db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Bo"]) == 1


async def test_failed_statement_dooms_the_transaction(database: Database) -> None:
    db = await with_aviation(database)
    insert = sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)')
    await db.execute(insert, ["Ann"])
    with pytest.raises(DatabaseError, match="rolled back"):
        async with db.transaction() as tx:
            await tx.execute(insert, ["Bo"])
            with pytest.raises(IntegrityViolation):
                await tx.execute(insert, ["Ann"])
            with pytest.raises(DatabaseError, match="aborted"):
                await tx.execute(insert, ["Cy"])
    assert await db.fetch_all('SELECT "name" FROM "pilot"') == [("Ann",)]


async def test_transaction_is_over_after_the_block(database: Database) -> None:
    db = await with_aviation(database)
    async with db.transaction() as tx:
        pass
    with pytest.raises(DatabaseError, match="over"):
        await tx.execute('DELETE FROM "pilot"')


async def test_writers_wait_for_each_other(database: Database) -> None:
    db = await with_aviation(database)
    insert = sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)')

    async def one(i: int) -> None:
        async with db.transaction() as tx:
            await tx.execute(insert, [f"p{i}"])
            await asyncio.sleep(0.001)
            await tx.execute(insert, [f"q{i}"])

    await asyncio.gather(*(one(i) for i in range(10)), *(db.execute(insert, [f"s{i}"]) for i in range(10)))
    assert await db.fetch_value('SELECT count(*) FROM "pilot"') == 30


async def test_concurrent_reads(database: Database) -> None:
    db = await with_aviation(database)
    async with db.transaction() as tx:
        for i in range(200):
            await tx.execute(sql(db, 'INSERT INTO "pilot" ("name", "age") VALUES (?, ?)'), [f"p{i}", i])
    query = sql(db, 'SELECT count(*), sum("age") FROM "pilot" WHERE "age" >= ?')

    async def read(i: int) -> tuple[object, ...]:
        return (await db.fetch_all(query, [i]))[0]

    results = await asyncio.gather(*(read(i % 200) for i in range(100)))
    for i, (count, total) in enumerate(results):
        lo = i % 200
        assert count == 200 - lo and total == sum(range(lo, 200))


async def test_reads_go_on_beside_an_open_transaction(database: Database) -> None:
    db = await with_aviation(database)
    await db.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Ann"])
    async with db.transaction() as tx:
        await tx.execute(sql(db, 'INSERT INTO "pilot" ("name") VALUES (?)'), ["Bo"])
        counts = await asyncio.gather(*(db.fetch_value('SELECT count(*) FROM "pilot"') for _ in range(5)))
        assert counts == [1] * 5


async def test_execute_script_is_atomic(database: Database) -> None:
    db = database
    with pytest.raises(DatabaseError):
        await db.execute_script(["CREATE TABLE a (x INTEGER)", "CREATE TABLE b (oops"])
    await db.execute_script(["CREATE TABLE a (x INTEGER)"])  # a was rolled back
