"""The database interface: the last stage of the pipeline, the only one that does I/O.

The compiler hands over SQL text for one dialect and its parameters, already converted for
that dialect; reads come back as tuples, and the JSON text the database built comes back as
`str`, untouched. `sqlite.py` and `postgres.py` implement this; `connect()` picks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import AsyncContextManager, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[object]
ViolationKind = Literal["unique", "foreign_key", "not_null", "check"]


class DatabaseError(Exception):
    """Any failure of the database or its driver. Drivers' exceptions never escape `db/`.

    `sqlstate` is PostgreSQL's five-character code, or SQLite's extended result name
    (`SQLITE_BUSY`, …) when known: enough for a caller to tell a timeout from a bug.
    """

    def __init__(self, message: str, *, sqlstate: str | None = None):
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate


class IntegrityViolation(DatabaseError):
    """A write refused by a constraint, with the same fields on both databases.

    kind: 'unique' | 'foreign_key' | 'not_null' | 'check'.
    table, columns: the table and columns of the constraint. For a foreign key they are the
    referencing side, also when the write was the delete of a still-referenced row (so the
    message can say "still referenced by plane.pilot").
    detail: the database's own message, for the log; never shown to clients as is.
    """

    def __init__(
        self,
        kind: ViolationKind,
        table: str,
        columns: Sequence[str],
        detail: str,
        *,
        sqlstate: str | None = None,
    ):
        self.kind: ViolationKind = kind
        self.table = table
        self.columns: tuple[str, ...] = tuple(columns)
        self.detail = detail
        cols = ", ".join(self.columns) or "?"
        super().__init__(f"{kind} violation on {table or '?'}({cols}): {detail}", sqlstate=sqlstate)

    def __repr__(self) -> str:
        return (
            f"IntegrityViolation(kind={self.kind!r}, table={self.table!r}, "
            f"columns={self.columns!r}, detail={self.detail!r})"
        )


class Executor(Protocol):
    """The three statement methods, shared by a database and an open transaction.

    Placeholders are `?` on SQLite and `$1..$n` on PostgreSQL.
    """

    async def fetch_value(self, sql: str, params: Params = ()) -> object:
        """The first column of the first row; None when there is no row."""
        ...

    async def fetch_all(self, sql: str, params: Params = ()) -> list[tuple[object, ...]]:
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the number of rows it inserted, updated or deleted."""
        ...


class Transaction(Executor, Protocol):
    """Statements inside one transaction: committed when the `async with` block exits,
    rolled back when it raises (cancellation included)."""


class Database(Executor, Protocol):
    dialect: Dialect

    def transaction(self) -> AsyncContextManager[Transaction]:
        ...

    async def execute_script(self, statements: Sequence[str]) -> None:
        """Run DDL statements (no parameters), all in one transaction."""
        ...

    async def close(self) -> None:
        ...


def rows_affected(status: str) -> int:
    """PostgreSQL's command tag ('UPDATE 3', 'INSERT 0 1', 'CREATE TABLE') as a count."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


def aborted_error(cause: DatabaseError) -> DatabaseError:
    """A statement sent after another one failed in the same transaction."""
    return DatabaseError(
        f"the transaction is aborted: an earlier statement failed ({cause.message})",
        sqlstate="25P02",
    )


def rolled_back_error(cause: DatabaseError) -> DatabaseError:
    """A transaction block that ended normally after one of its statements failed: it
    cannot commit, and saying nothing would lose the writes silently."""
    return DatabaseError(
        f"the transaction was rolled back: a statement in it failed ({cause.message})",
        sqlstate="40000",
    )
