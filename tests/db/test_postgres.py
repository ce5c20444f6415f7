"""What only PostgreSQL has: the pool options and the constraint map."""

from __future__ import annotations

import pytest

from fleetyard.db import DatabaseError, connect
from fleetyard.db.base import rows_affected
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url


def test_rows_affected() -> None:
    assert rows_affected("INSERT 0 3") == 3
    assert rows_affected("UPDATE 2") == 2
    assert rows_affected("CREATE TABLE") == 0


async def test_unreachable_server_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match="cannot connect"):
        await connect("postgresql://postgres@127.0.0.1:1/none", pool_size=1)


async def test_statement_timeout_and_unique_index() -> None:
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    try:
        short = await connect(url, pool_size=1, statement_timeout=1.0,
                              server_settings={"search_path": schema})
        try:
            with pytest.raises(DatabaseError) as info:
                await short.fetch_value("SELECT pg_sleep(5)")
            assert info.value.sqlstate == "57014"  # query_canceled
        finally:
            await short.close()
        # A unique index (not a constraint) created after connecting is found too.
        await db.execute_script(["CREATE TABLE t (a INTEGER, b INTEGER)"])
        await db.execute("CREATE UNIQUE INDEX t_ab ON t (b, a)")
        await db.execute("INSERT INTO t VALUES (1, 2)")
        with pytest.raises(DatabaseError) as violation:
            await db.execute("INSERT INTO t VALUES (1, 2)")
        assert getattr(violation.value, "columns", None) == ("b", "a")
    finally:
        await db.close()
        await drop_postgres_schema(url, schema)
