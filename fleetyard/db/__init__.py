"""The database stage: `connect(url)` gives a `Database` for the URL's scheme.

`sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `sqlite:///:memory:` (one
connection, for tests), `postgresql://user@host:port/dbname` (also `postgres://`).
"""

from __future__ import annotations

from typing import Any

from fleetyard.db.base import Database, DatabaseError, IntegrityViolation, Transaction

__all__ = ["Database", "DatabaseError", "IntegrityViolation", "Transaction", "connect", "sqlite_path"]


def sqlite_path(url: str) -> str:
    """The file path in a `sqlite:///…` URL (SQLAlchemy's convention: three slashes then
    the path, so an absolute path has four)."""
    if not url.startswith("sqlite:///"):
        raise DatabaseError(f"not a SQLite URL: {url!r} (expected sqlite:///path)")
    path = url[len("sqlite:///") :].partition("?")[0]
    if not path:
        raise DatabaseError(f"no file in SQLite URL {url!r} (use sqlite:///:memory: for none)")
    return path


async def connect(url: str, **options: Any) -> Database:
    """Open the database at `url`.

    Options — SQLite: `readers` (read threads, default 2–4), `busy_timeout` (seconds).
    PostgreSQL: `pool_size` (default 16), `min_pool_size`, `statement_timeout` (seconds,
    default 30), `server_settings` (e.g. `{"search_path": "…"}`).
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        from fleetyard.db.sqlite import SQLiteDatabase

        return SQLiteDatabase(sqlite_path(url), **options)
    if scheme in ("postgresql", "postgres"):
        from fleetyard.db.postgres import PostgresDatabase

        return await PostgresDatabase.open(url, **options)
    raise DatabaseError(
        f"unsupported database URL {url!r}: use sqlite:///path or postgresql://user@host/db"
    )
