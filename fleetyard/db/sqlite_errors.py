"""SQLite's errors as `IntegrityViolation` / `DatabaseError`, with the columns named.

SQLite names the columns of UNIQUE, NOT NULL and (named) CHECK failures in its message
("UNIQUE constraint failed: plane.pilot, plane.name"), but says only "FOREIGN KEY constraint
failed" for a foreign key. That one is found after the fact, on the failure path only: the
statement runs again inside a savepoint with foreign keys deferred, temporary triggers note
which rows it wrote or deleted, and only those rows are checked against their parents.
Everything is rolled back to the savepoint, so the transaction goes on as if the statement
had failed normally.
"""

from __future__ import annotations

import sqlite3

from fleetyard.db.base import DatabaseError, IntegrityViolation, Params, ViolationKind

# Extended result codes (sqlite3.h). Python 3.11 has no name for DATATYPE (STRICT tables).
_KINDS: dict[int, ViolationKind] = {
    2067: "unique",  # SQLITE_CONSTRAINT_UNIQUE
    1555: "unique",  # SQLITE_CONSTRAINT_PRIMARYKEY
    1299: "not_null",  # SQLITE_CONSTRAINT_NOTNULL
    275: "check",  # SQLITE_CONSTRAINT_CHECK
    3091: "check",  # SQLITE_CONSTRAINT_DATATYPE: "cannot store TEXT value in INTEGER column t.c"
    787: "foreign_key",  # SQLITE_CONSTRAINT_FOREIGNKEY
}


def map_error(conn: sqlite3.Connection, e: sqlite3.Error, sql: str, params: Params) -> Exception:
    """The exception to raise for `e`, which `sql` raised on `conn`."""
    code = getattr(e, "sqlite_errorcode", 0)
    message = str(e)
    kind = _KINDS.get(code)
    if kind is None:
        return DatabaseError(message, sqlstate=getattr(e, "sqlite_errorname", None))
    sqlstate = "SQLITE_CONSTRAINT_DATATYPE" if code == 3091 else getattr(e, "sqlite_errorname", None)
    if kind == "foreign_key":
        table, columns = diagnose_foreign_key(conn, sql, params)
    else:
        table, columns = _named_columns(message)
    return IntegrityViolation(kind, table, columns, message, sqlstate=sqlstate)


def _named_columns(message: str) -> tuple[str, tuple[str, ...]]:
    """'UNIQUE constraint failed: t.a, t.b' → ('t', ('a', 'b')). Our DDL names each CHECK
    constraint "table.column", so CHECK messages read the same way."""
    rest = message.rpartition(" column ")[2] if message.startswith("cannot store") else (
        message.partition(": ")[2]
    )
    parts = [p.strip() for p in rest.split(", ") if p.strip()]
    if not parts or any("." not in p for p in parts):
        return "", ()
    table = parts[0].partition(".")[0]
    return table, tuple(p.partition(".")[2] for p in parts)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _foreign_keys(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """Every single-column foreign key: (child table, child column, parent, parent column)."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    fks: list[tuple[str, str, str, str]] = []
    for table in tables:
        rows = conn.execute(f"PRAGMA foreign_key_list({_quote(table)})").fetchall()
        # (id, seq, table, from, to, on_update, on_delete, match); `to` is None for the PK.
        by_id: dict[int, list[tuple[object, ...]]] = {}
        for row in rows:
            by_id.setdefault(int(row[0]), []).append(row)
        for group in by_id.values():
            if len(group) == 1:
                _, _, parent, col, pcol, *_ = group[0]
                fks.append((table, str(col), str(parent), str(pcol or "rowid")))
    return fks


def diagnose_foreign_key(
    conn: sqlite3.Connection, sql: str, params: Params
) -> tuple[str, tuple[str, ...]]:
    """(table, columns) of the foreign key `sql` broke — the referencing side, also when it
    deleted a row that is still referenced. ('', ()) when it cannot be told."""
    try:
        fks = _foreign_keys(conn)
    except sqlite3.Error:
        return "", ()
    if not fks:
        return "", ()
    children = sorted({c for c, _, _, _ in fks})
    parents = sorted({(p, pc) for _, _, p, pc in fks})
    conn.execute("SAVEPOINT fleetyard_fk_diagnosis")
    try:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("CREATE TEMP TABLE fleetyard_fk_rows (op TEXT, tbl TEXT, col TEXT, val)")
        n = 0
        for child in children:
            for event in ("INSERT", "UPDATE"):
                n += 1
                conn.execute(
                    f"CREATE TEMP TRIGGER fleetyard_fk_{n} AFTER {event} ON main.{_quote(child)} "
                    f"BEGIN INSERT INTO fleetyard_fk_rows VALUES ('w', {_literal(child)}, NULL, "
                    f"new.rowid); END"
                )
        for parent, pcol in parents:
            n += 1
            conn.execute(
                f"CREATE TEMP TRIGGER fleetyard_fk_{n} AFTER DELETE ON main.{_quote(parent)} "
                f"BEGIN INSERT INTO fleetyard_fk_rows VALUES ('d', {_literal(parent)}, "
                f"{_literal(pcol)}, old.{_quote(pcol)}); END"
            )
        conn.execute(sql, params).fetchall()
        for child, col, parent, pcol in fks:
            c, p = _quote(col), _quote(pcol)
            missing_parent = f"NOT EXISTS (SELECT 1 FROM main.{_quote(parent)} p WHERE p.{p} = c.{c})"
            written = conn.execute(
                f"SELECT 1 FROM main.{_quote(child)} c WHERE c.rowid IN (SELECT val FROM "
                f"fleetyard_fk_rows WHERE op = 'w' AND tbl = ?) AND c.{c} IS NOT NULL AND "
                f"{missing_parent} LIMIT 1",
                (child,),
            ).fetchone()
            orphaned = conn.execute(
                f"SELECT 1 FROM main.{_quote(child)} c WHERE c.{c} IN (SELECT val FROM "
                f"fleetyard_fk_rows WHERE op = 'd' AND tbl = ? AND col = ?) AND "
                f"{missing_parent} LIMIT 1",
                (parent, pcol),
            ).fetchone()
            if written or orphaned:
                return child, (col,)
        return "", ()
    except sqlite3.Error:
        return "", ()
    finally:
        # Undoes the statement, the temp table and the triggers alike. (If SQLite rolled
        # the whole transaction back itself, the savepoint is gone: nothing to undo.)
        for statement in (
            "ROLLBACK TO fleetyard_fk_diagnosis",
            "RELEASE fleetyard_fk_diagnosis",
            "PRAGMA defer_foreign_keys = OFF",
        ):
            try:
                conn.execute(statement)
            except sqlite3.Error:
                pass


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
