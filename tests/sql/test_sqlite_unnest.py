"""SQLite's renderer merges an EXISTS that is a conjunct of another EXISTS into it as a join:
the same rows, fewer sub-queries for a parser whose stack is fixed before SQLite 3.46."""

from __future__ import annotations

import sqlite3

from fleetyard.sql import ir
from fleetyard.sql.dialects.sqlite import SQLiteRenderer
from fleetyard.sql.render import renderer


def chain(depth: int, top: str = "t0") -> ir.Exists:
    """EXISTS (SELECT 1 FROM n AS t1 WHERE t1.parent = t0.id AND EXISTS (… t<depth>.v = 1))."""
    where: ir.Expr = ir.Op("=", (ir.Col(f"t{depth}", "v"), ir.Const(1)))
    for level in range(depth, 0, -1):
        link = ir.Op("=", (ir.Col(f"t{level}", "parent"), ir.Col(f"t{level - 1}" if level > 1 else top, "id")))
        where = ir.Op("AND", (link, where))
        sel = ir.Select(((ir.Const(1), None),), ir.Table("n", f"t{level}"), where)
        where = ir.Exists(sel)
    assert isinstance(where, ir.Exists)
    return where


def test_nested_exists_conjuncts_become_one_exists_with_joins():
    sql = SQLiteRenderer().expr(chain(3))
    assert sql.count("EXISTS") == 1 and sql.count("SELECT") == 1
    assert 'INNER JOIN "n" AS "t2"' in sql and 'INNER JOIN "n" AS "t3"' in sql
    assert '"t3"."v" = 1' in sql
    # PostgreSQL keeps the nesting: its planner unnests semi-joins itself.
    assert renderer("postgres").expr(chain(3)).count("EXISTS") == 3


def test_an_exists_under_or_or_not_stays_nested():
    inner = chain(1)
    either = ir.Exists(ir.Select(((ir.Const(1), None),), ir.Table("n", "t9"),
                                 ir.Op("OR", (inner, ir.Not(chain(1))))))
    assert SQLiteRenderer().expr(either).count("EXISTS") == 3


def test_the_same_rows_and_no_parser_overflow():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, parent INTEGER, v INTEGER)")
    # a path 1 → 2 → … → 60 whose last row has v = 1, and a row 100 with no such path
    db.executemany("INSERT INTO n VALUES (?, ?, ?)", [(i, i - 1, int(i == 60)) for i in range(1, 61)])
    db.execute("INSERT INTO n VALUES (100, NULL, 0)")
    for depth in (1, 5, 40):
        sql = f'SELECT "t0"."id" FROM "n" AS "t0" WHERE {SQLiteRenderer().expr(chain(depth))} ORDER BY 1'
        expected = [(60 - depth,)]
        assert db.execute(sql).fetchall() == expected, depth
