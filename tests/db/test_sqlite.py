"""What only SQLite has: the writer/readers split, `:memory:`, WAL, URLs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fleetyard.db import DatabaseError, IntegrityViolation, connect, sqlite_path
from fleetyard.db.sqlite import SQLiteDatabase
from tests.db.util import with_aviation


def test_sqlite_urls() -> None:
    assert sqlite_path("sqlite:///data/fleetyard.db") == "data/fleetyard.db"
    assert sqlite_path("sqlite:////var/lib/x.db") == "/var/lib/x.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    for bad in ("sqlite://", "sqlite:///", "sqlite:x.db"):
        with pytest.raises(DatabaseError):
            sqlite_path(bad)


async def test_unknown_scheme() -> None:
    with pytest.raises(DatabaseError, match="unsupported"):
        await connect("mysql://root@localhost/x")


async def test_memory_database_works_on_one_connection() -> None:
    db = await with_aviation(await connect("sqlite:///:memory:"))
    try:
        async with db.transaction() as tx:
            await tx.execute('INSERT INTO "pilot" ("name") VALUES (?)', ["Ann"])
            # A read through the database waits for the transaction (it would see its
            # uncommitted rows otherwise), so it runs after it.
            pending = asyncio.ensure_future(db.fetch_value('SELECT count(*) FROM "pilot"'))
            await asyncio.sleep(0.01)
            assert not pending.done()
        assert await pending == 1
        assert await db.fetch_all('SELECT "name" FROM "pilot"') == [("Ann",)]
    finally:
        await db.close()


async def test_file_database_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = await connect(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.db'}")  # directories made
    try:
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
    finally:
        await db.close()
    assert (tmp_path / "sub" / "dir" / "x.db").exists()


async def test_writing_through_the_database_inside_its_transaction_is_refused(tmp_path: Path) -> None:
    db = await connect(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await db.execute_script(["CREATE TABLE t (a INTEGER)"])
        with pytest.raises(DatabaseError, match="through the transaction"):
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (1)")  # would wait for itself forever
        async with db.transaction():
            assert await db.fetch_value("SELECT count(*) FROM t") == 0  # reads are fine
    finally:
        await db.close()


async def test_reads_run_in_threads(tmp_path: Path) -> None:
    db = await connect(f"sqlite:///{tmp_path / 'x.db'}", readers=2)
    assert isinstance(db, SQLiteDatabase)
    try:
        await db.execute_script(["CREATE TABLE t (a INTEGER)"])
        await db.execute("INSERT INTO t VALUES (1)")
        assert await asyncio.gather(*(db.fetch_value("SELECT a FROM t") for _ in range(20))) == [1] * 20
        assert 1 <= len(db._readers) <= 2
    finally:
        await db.close()
    with pytest.raises(DatabaseError, match="closed"):
        await db.fetch_value("SELECT 1")


async def test_a_second_process_sees_committed_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    a, b = await connect(url), await connect(url)
    try:
        await a.execute_script(["CREATE TABLE t (a INTEGER)"])
        async with a.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            assert await b.fetch_value("SELECT count(*) FROM t") == 0
        assert await b.fetch_value("SELECT count(*) FROM t") == 1
        await b.execute("INSERT INTO t VALUES (2)")
        assert await a.fetch_value("SELECT sum(a) FROM t") == 3
    finally:
        await a.close()
        await b.close()


async def test_foreign_key_diagnosis_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await with_aviation(await connect(f"sqlite:///{tmp_path / 'x.db'}"))
    assert isinstance(db, SQLiteDatabase)
    try:
        with pytest.raises(IntegrityViolation):
            await db.execute('INSERT INTO "plane" ("name", "is_flown_by__pilot") VALUES (?, ?)', ["K", 5])
        writer = db._writer
        assert writer.execute("SELECT count(*) FROM sqlite_temp_master").fetchone() == (0,)
        assert writer.execute("PRAGMA defer_foreign_keys").fetchone() == (0,)
        assert not writer.in_transaction
        assert await db.fetch_value('SELECT count(*) FROM "plane"') == 0
    finally:
        await db.close()
