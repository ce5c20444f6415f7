"""PostgreSQL behind the `Database` interface, on an asyncpg pool (`postgresql://…`).

asyncpg prepares every statement and keeps it in a per-connection cache, so a compiled
query is planned once per connection. No type codec is set: `json`/`jsonb` come back as the
`str` the database built, which goes straight into the response body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import asyncpg

from fleetyard.db.base import (
    DatabaseError,
    Dialect,
    IntegrityViolation,
    Params,
    ViolationKind,
    aborted_error,
    rolled_back_error,
    rows_affected,
)

_KINDS: dict[str, ViolationKind] = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
}

# (schema, table, constraint) → its columns, from the catalog: PostgreSQL names the
# constraint in an error but not its columns (a foreign key's detail names the *parent's*
# columns when a referenced row is deleted).
_CONSTRAINTS_SQL = """
SELECT n.nspname, t.relname, c.conname, array_agg(a.attname ORDER BY k.ord)
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE n.nspname = ANY(current_schemas(false))
GROUP BY 1, 2, 3
UNION ALL
SELECT n.nspname, t.relname, ix.relname, array_agg(a.attname ORDER BY k.ord)
FROM pg_index i
JOIN pg_class ix ON ix.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indisunique AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  AND n.nspname = ANY(current_schemas(false))
GROUP BY 1, 2, 3
"""

_KEY_COLUMNS = re.compile(r"^Key \((.*?)\)=\(")

ConstraintMap = dict[tuple[str, str, str], tuple[str, ...]]


class PostgresDatabase:
    dialect: Dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, dsn: str, server_settings: Mapping[str, str]):
        self._pool = pool
        self._dsn = dsn
        self._server_settings = dict(server_settings)
        self._constraints: ConstraintMap = {}

    @classmethod
    async def open(
        cls,
        dsn: str,
        *,
        pool_size: int = 16,
        min_pool_size: int = 1,
        statement_timeout: float = 30.0,
        server_settings: Mapping[str, str] | None = None,
    ) -> PostgresDatabase:
        settings = {
            "statement_timeout": str(int(statement_timeout * 1000)),  # ms
            # JIT compiles for tens of ms whenever the planner overestimates a short query.
            "jit": "off",
            "application_name": "fleetyard",
            **(server_settings or {}),
        }
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min(min_pool_size, pool_size),
                max_size=pool_size,
                statement_cache_size=1024,
                # Compiled reads with wide JSON builders are long; they must stay cached.
                max_cacheable_statement_size=1024 * 1024,
                server_settings=settings,
            )
        except Exception as e:
            raise DatabaseError(f"cannot connect to PostgreSQL: {e}") from e
        db = cls(pool, dsn, settings)
        await db._load_constraints()
        return db

    # --- errors -----------------------------------------------------------------------

    async def _load_constraints(self) -> None:
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                # The server's own catalog read is not a caller's statement: a short
                # statement timeout (a fresh connection's first catalog lookups are the
                # slowest) must not make connecting fail.
                await conn.execute("SET LOCAL statement_timeout = 0")
                rows = await conn.fetch(_CONSTRAINTS_SQL)
        except Exception as e:
            raise DatabaseError(f"cannot read the catalog: {e}") from e
        self._constraints = {(r[0], r[1], r[2]): tuple(r[3]) for r in rows}

    async def _reload_constraints_aside(self) -> None:
        """Reload the map on a connection of its own: the failing statement's connection
        may be in an aborted transaction, and waiting for another pool connection while
        holding one could deadlock a full pool."""
        try:
            conn = await asyncpg.connect(self._dsn, server_settings=self._server_settings)
        except Exception:
            return
        try:
            await conn.execute("SET statement_timeout = 0")
            rows = await conn.fetch(_CONSTRAINTS_SQL)
            self._constraints = {(r[0], r[1], r[2]): tuple(r[3]) for r in rows}
        except Exception:
            pass
        finally:
            await conn.close()

    async def _error(self, e: BaseException) -> DatabaseError:
        if isinstance(e, DatabaseError):
            return e
        if not isinstance(e, asyncpg.PostgresError):
            return DatabaseError(f"{type(e).__name__}: {e}")
        sqlstate = e.sqlstate
        kind = _KINDS.get(sqlstate or "")
        message = str(e.args[0]) if e.args else str(e)
        if kind is None:
            return DatabaseError(message, sqlstate=sqlstate)
        detail = getattr(e, "detail", None)
        schema = getattr(e, "schema_name", None) or ""
        table = getattr(e, "table_name", None) or ""
        if kind == "not_null":
            column = getattr(e, "column_name", None)
            columns: tuple[str, ...] = (column,) if column else ()
        else:
            key = (schema, table, getattr(e, "constraint_name", None) or "")
            found = self._constraints.get(key)
            if found is None:
                await self._reload_constraints_aside()
                found = self._constraints.get(key)
            columns = found or _detail_columns(detail, kind)
        text = message + (f" ({detail})" if detail else "")
        return IntegrityViolation(kind, table, columns, text, sqlstate=sqlstate)

    # --- the interface ----------------------------------------------------------------

    async def fetch_value(self, sql: str, params: Params = ()) -> object:
        try:
            return await self._pool.fetchval(sql, *params)
        except Exception as e:
            raise await self._error(e) from e

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        try:
            rows = await self._pool.fetch(sql, *params)
        except Exception as e:
            raise await self._error(e) from e
        return [tuple(r) for r in rows]

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            return rows_affected(await self._pool.execute(sql, *params))
        except Exception as e:
            raise await self._error(e) from e

    def transaction(self) -> PostgresTransaction:
        return PostgresTransaction(self)

    async def execute_script(self, statements: Sequence[str]) -> None:
        async with self.transaction() as tx:
            for statement in statements:
                await tx.execute(statement)
        await self._load_constraints()

    async def close(self) -> None:
        try:
            await self._pool.close()
        except Exception as e:
            raise DatabaseError(f"closing the pool: {e}") from e


def _detail_columns(detail: str | None, kind: ViolationKind) -> tuple[str, ...]:
    """'Key (a, "b c")=(1, x) already exists.' → ('a', 'b c'); a fallback for constraints
    the catalog map does not know. A delete's detail names the parent's key: no use."""
    if not detail or (kind == "foreign_key" and "still referenced" in detail):
        return ()
    m = _KEY_COLUMNS.match(detail)
    if m is None:
        return ()
    return tuple(c.strip().strip('"').replace('""', '"') for c in m.group(1).split(","))


class PostgresTransaction:
    """One pool connection and one transaction for the length of the `async with` block.

    After a failed statement PostgreSQL refuses the rest of the transaction and turns its
    COMMIT into a silent ROLLBACK; a block that ends normally then raises instead.
    """

    def __init__(self, db: PostgresDatabase):
        self._db = db
        self._conn: Any = None
        self._tx: Any = None
        self._failed: DatabaseError | None = None

    async def __aenter__(self) -> PostgresTransaction:
        pool = self._db._pool
        try:
            self._conn = await pool.acquire()
        except Exception as e:
            raise await self._db._error(e) from e
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
        except BaseException as e:
            await pool.release(self._conn)
            self._conn = None
            if isinstance(e, Exception):
                raise await self._db._error(e) from e
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, tx = self._conn, self._tx
        self._conn = None
        try:
            if exc_type is None and self._failed is not None:
                try:
                    await tx.rollback()
                except Exception:
                    pass
                raise rolled_back_error(self._failed)
            if exc_type is None:
                try:
                    await tx.commit()
                except Exception as e:
                    raise await self._db._error(e) from e
            else:
                try:
                    await tx.rollback()
                except Exception:
                    pass  # the block's own exception is the one to see; release resets it
        finally:
            await self._db._pool.release(conn)

    def _connection(self) -> Any:
        if self._conn is None:
            raise DatabaseError("the transaction is over")
        if self._failed is not None:
            raise aborted_error(self._failed)
        return self._conn

    async def _fail(self, e: Exception) -> DatabaseError:
        self._failed = await self._db._error(e)
        return self._failed

    async def fetch_value(self, sql: str, params: Params = ()) -> object:
        conn = self._connection()
        try:
            return await conn.fetchval(sql, *params)
        except Exception as e:
            raise await self._fail(e) from e

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        conn = self._connection()
        try:
            rows = await conn.fetch(sql, *params)
        except Exception as e:
            raise await self._fail(e) from e
        return [tuple(r) for r in rows]

    async def execute(self, sql: str, params: Params = ()) -> int:
        conn = self._connection()
        try:
            return rows_affected(await conn.execute(sql, *params))
        except Exception as e:
            raise await self._fail(e) from e
