"""SQLite behind the `Database` interface: the embedded default (`sqlite:///data/x.db`).

Writes take microseconds, so they run synchronously on the event loop, on one writer
connection, serialised by an asyncio lock (no thread hop per statement). Reads run in a small
thread pool with one read-only connection per thread: sqlite3 releases the GIL while stepping,
so reads use every core, and WAL lets them run beside the writer. `:memory:` is one
connection for everything (a private in-memory database cannot be shared between
connections without shared-cache locking), so there reads wait for the lock too.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from fleetyard.db.base import DatabaseError, Dialect, Params, aborted_error, rolled_back_error
from fleetyard.db.sqlite_errors import map_error

_VALUE, _ALL, _EXEC = 0, 1, 2

# Statements that change something go to the writer without trying a reader first.
_WRITE_WORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "PRAGMA", "VACUUM",
     "ANALYZE", "REINDEX", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH"}
)
_SQLITE_READONLY = 8


def _first_word(sql: str) -> str:
    s = sql.lstrip(" \t\r\n(")
    end = 0
    while end < len(s) and s[end].isalpha():
        end += 1
    return s[:end].upper()


def _run(conn: sqlite3.Connection, sql: str, params: Params, mode: int) -> object:
    """One statement on one connection. The cursor is always exhausted or closed, so a
    reader never keeps a read transaction (and the WAL snapshot) open after it returns."""
    cur = conn.execute(sql, params)
    try:
        if mode == _VALUE:
            row = cur.fetchone()
            return None if row is None else row[0]
        rows = cur.fetchall()
        if mode == _ALL:
            return rows
        return max(cur.rowcount, 0)
    finally:
        cur.close()


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back whatever is open; the exception already on its way matters more than a
    failure here."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


class _ReadOnly(Exception):
    """A statement sent to a reader turned out to write (a `WITH … INSERT`, say)."""


class SQLiteDatabase:
    dialect: Dialect = "sqlite"

    def __init__(self, path: str, *, readers: int | None = None, busy_timeout: float = 5.0):
        self.path = path
        self.memory = path == ":memory:" or path == ""
        self._busy_timeout = busy_timeout
        if not self.memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._open(reader=False)
        self._lock = asyncio.Lock()
        self._closed = False
        self._tx_task: asyncio.Task[object] | None = None  # the task holding a transaction
        self._writes: set[str] = set()  # statements a reader refused, remembered
        self._readers: list[sqlite3.Connection] = []
        self._readers_guard = threading.Lock()
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        if not self.memory:
            n = readers if readers is not None else max(2, min(4, os.cpu_count() or 2))
            self._pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="fleetyard-sqlite")

    def _open(self, *, reader: bool) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path or ":memory:",
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # close() runs on the loop's thread
                cached_statements=512,
                timeout=self._busy_timeout,
            )
            if not reader and not self.memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if reader:
                conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error as e:
            raise DatabaseError(f"cannot open SQLite database {self.path!r}: {e}") from e
        return conn

    # --- reads ------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open(reader=True)
            self._local.conn = conn
            with self._readers_guard:
                self._readers.append(conn)
        return conn

    def _read_sync(self, sql: str, params: Params, mode: int) -> object:
        conn = self._reader()
        try:
            return _run(conn, sql, params, mode)
        except sqlite3.Error as e:
            if getattr(e, "sqlite_errorcode", 0) & 0xFF == _SQLITE_READONLY:
                raise _ReadOnly() from None
            raise map_error(conn, e, sql, params) from e

    async def _read(self, sql: str, params: Params, mode: int) -> object:
        if self._pool is None or sql in self._writes or _first_word(sql) in _WRITE_WORDS:
            return await self._write(sql, params, mode)
        self._check_open()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._read_sync, sql, params, mode)
        except _ReadOnly:
            if len(self._writes) > 10_000:  # compiled SQL is cached upstream; stay bounded
                self._writes.clear()
            self._writes.add(sql)
            return await self._write(sql, params, mode)

    # --- writes -----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise DatabaseError("the database is closed")

    def _refuse_reentry(self) -> None:
        # A write through the database (not the transaction) from the task that holds the
        # transaction would wait for its own lock forever: refuse it instead.
        if self._tx_task is not None and self._tx_task is asyncio.current_task():
            raise DatabaseError(
                "this task has a transaction open on this database: "
                "run the statement through the transaction"
            )

    def _run_writer(self, sql: str, params: Params, mode: int) -> object:
        try:
            return _run(self._writer, sql, params, mode)
        except sqlite3.Error as e:
            raise map_error(self._writer, e, sql, params) from e

    async def _write(self, sql: str, params: Params, mode: int) -> object:
        self._refuse_reentry()
        async with self._lock:
            self._check_open()
            return self._run_writer(sql, params, mode)

    # --- the interface ----------------------------------------------------------------

    async def fetch_value(self, sql: str, params: Params = ()) -> object:
        return await self._read(sql, params, _VALUE)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        return await self._read(sql, params, _ALL)  # type: ignore[return-value]

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._write(sql, params, _EXEC)  # type: ignore[return-value]

    def transaction(self) -> SQLiteTransaction:
        return SQLiteTransaction(self)

    async def execute_script(self, statements: Sequence[str]) -> None:
        async with self.transaction() as tx:
            for statement in statements:
                await tx.execute(statement)

    async def close(self) -> None:
        if self._closed:
            return
        self._refuse_reentry()
        async with self._lock:  # let an open transaction finish first
            self._closed = True
            if self._pool is not None:
                await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown)
            with self._readers_guard:
                for conn in self._readers:
                    conn.close()
                self._readers.clear()
            self._writer.close()


class SQLiteTransaction:
    """`BEGIN IMMEDIATE` on the writer, holding the write lock until the block ends.

    IMMEDIATE takes SQLite's write lock up front, so another process (a CLI migration beside
    the server) makes us wait at the start instead of failing halfway with SQLITE_BUSY.
    A failed statement dooms the transaction, as on PostgreSQL: SQLite alone would carry on,
    and code that works on one database only is the bug the two-database tests exist for.
    """

    def __init__(self, db: SQLiteDatabase):
        self._db = db
        self._open = False
        self._failed: DatabaseError | None = None

    async def __aenter__(self) -> SQLiteTransaction:
        db = self._db
        db._refuse_reentry()
        await db._lock.acquire()
        try:
            db._check_open()
            db._run_writer("BEGIN IMMEDIATE", (), _EXEC)
        except BaseException:
            db._lock.release()
            raise
        db._tx_task = asyncio.current_task()
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        db, conn = self._db, self._db._writer
        self._open = False
        try:
            if exc_type is None and self._failed is not None:
                _rollback(conn)
                raise rolled_back_error(self._failed)
            if exc_type is None:
                try:
                    db._run_writer("COMMIT", (), _EXEC)
                except BaseException:
                    _rollback(conn)
                    raise
            else:
                _rollback(conn)
        finally:
            db._tx_task = None
            db._lock.release()

    def _run(self, sql: str, params: Params, mode: int) -> object:
        if not self._open:
            raise DatabaseError("the transaction is over")
        if self._failed is not None:
            raise aborted_error(self._failed)
        try:
            return self._db._run_writer(sql, params, mode)
        except DatabaseError as e:
            self._failed = e
            raise

    async def fetch_value(self, sql: str, params: Params = ()) -> object:
        return self._run(sql, params, _VALUE)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        return self._run(sql, params, _ALL)  # type: ignore[return-value]

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._run(sql, params, _EXEC)  # type: ignore[return-value]
