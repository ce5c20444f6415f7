"""Render a SQL tree (`fleetyard.sql.ir`) as text for one database.

Stage 4 of the pipeline. The neutral `Renderer` has one method per node; each dialect
(`dialects/sqlite.py`, `dialects/postgres.py`) overrides only what it says differently.
Parameters are numbered (`$1` / `?1`), so a value used twice is sent once.
"""

from __future__ import annotations

from typing import Callable

from fleetyard.sql import ir


_COMPARE, _NOT = 4, 3
_PRECEDENCE = {
    "OR": 1, "AND": 2,
    "=": _COMPARE, "<>": _COMPARE, "<": _COMPARE, "<=": _COMPARE, ">": _COMPARE, ">=": _COMPARE,
    "IS": _COMPARE, "IS NOT": _COMPARE, "IN": _COMPARE,
    "||": 5, "+": 6, "-": 6, "*": 7, "/": 7,
}
_ATOM = 9


def precedence(e: ir.Expr) -> int:
    """How tightly an expression's text holds together (higher: tighter)."""
    if isinstance(e, ir.Op):
        return _PRECEDENCE[e.op]
    if isinstance(e, (ir.IsNull, ir.InList)):
        return _COMPARE
    if isinstance(e, ir.Not):
        return _NOT
    return _ATOM


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Renderer:
    name = "neutral"
    true, false = "TRUE", "FALSE"
    # SQL type of each model field type, for casts.
    types: dict[str, str] = {}
    # Neutral function name → a template taking rendered arguments.
    functions: dict[str, Callable[..., str]] = {}

    def render(self, node: ir.Statement) -> tuple[str, list[int]]:
        """The statement's text and the parameter slots it uses, in the order of their
        numbers (`$1`/`?1` is slot `slots[0]`): unused slots are left out, so a plan's
        parameter list can hold values a statement does not need (`/$count` ignores
        `$top`)."""
        self._slots: dict[int, int] = {}
        sql = self._statement(node)
        return sql, list(self._slots)

    def number(self, slot: int) -> int:
        """The 1-based number of a slot in the statement being rendered."""
        n = self._slots.get(slot)
        if n is None:
            n = self._slots[slot] = len(self._slots) + 1
        return n

    def _statement(self, node: ir.Statement) -> str:
        if isinstance(node, ir.Envelope):
            return self.envelope(node)
        if isinstance(node, ir.Select):
            return self.select(node)
        if isinstance(node, ir.Insert):
            return self.insert(node)
        if isinstance(node, ir.Update):
            return self.update(node)
        if isinstance(node, ir.Delete):
            return self.delete(node)
        raise TypeError(f"not a statement: {node!r}")

    # --- expressions --------------------------------------------------------------------

    def expr(self, e: ir.Expr) -> str:
        method = getattr(self, "x_" + type(e).__name__)
        return method(e)

    def x_Col(self, e: ir.Col) -> str:
        return f"{quote(e.table)}.{quote(e.name)}"

    def x_Param(self, e: ir.Param) -> str:
        raise NotImplementedError

    def x_Const(self, e: ir.Const) -> str:
        v = e.value
        if v is None:
            return "NULL"
        if v is True:
            return self.true
        if v is False:
            return self.false
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return quote_text(v)
        raise TypeError(f"constant of unsupported type: {v!r}")

    def operand(self, e: ir.Expr, outer: int, right: bool = False) -> str:
        """An operand of an operator of precedence `outer`, parenthesised only when SQL
        would read it otherwise: every needless level of parentheses costs SQLite parser
        stack, and deep filters are legal."""
        text = self.expr(e)
        inner = precedence(e)
        if inner < outer or (inner == outer and (right or outer == _COMPARE)):
            return f"({text})"
        return text

    def x_Op(self, e: ir.Op) -> str:
        p = _PRECEDENCE[e.op]
        right_assoc = e.op in ("-", "/")  # a - (b - c) keeps its parentheses
        return f" {e.op} ".join(
            self.operand(a, p, right=i > 0 and right_assoc) for i, a in enumerate(e.args))

    def x_Not(self, e: ir.Not) -> str:
        inner = e.operand
        if isinstance(inner, (ir.IsNull, ir.Exists, ir.Not)):
            return f"NOT {self.operand(inner, _NOT)}"
        return f"NOT COALESCE({self.expr(inner)}, {self.false})"

    def x_IsNull(self, e: ir.IsNull) -> str:
        return f"{self.operand(e.operand, _COMPARE)} IS {'NOT ' if e.negate else ''}NULL"

    def x_InList(self, e: ir.InList) -> str:
        items = ", ".join(self.expr(i) for i in e.items)
        return f"{self.operand(e.operand, _COMPARE)} IN ({items})"

    def x_Func(self, e: ir.Func) -> str:
        args = [self.expr(a) for a in e.args]
        template = self.functions.get(e.name)
        if template is not None:
            return template(*args)
        if e.name == "count":
            return "COUNT(*)"
        return f"{e.name.upper()}({', '.join(args)})"

    def x_Case(self, e: ir.Case) -> str:
        parts = ["CASE"]
        if e.subject is not None:
            parts.append(self.expr(e.subject))
        for cond, value in e.whens:
            parts.append(f"WHEN {self.expr(cond)} THEN {self.expr(value)}")
        if e.else_ is not None:
            parts.append(f"ELSE {self.expr(e.else_)}")
        parts.append("END")
        return "(" + " ".join(parts) + ")"

    def x_Exists(self, e: ir.Exists) -> str:
        return f"EXISTS ({self.select(e.query)})"

    def x_Scalar(self, e: ir.Scalar) -> str:
        return f"({self.select(e.query)})"

    def x_Cast(self, e: ir.Cast) -> str:
        return f"CAST({self.expr(e.operand)} AS {self.types[e.type]})"

    def x_JsonValue(self, e: ir.JsonValue) -> str:
        raise NotImplementedError

    def x_JsonObject(self, e: ir.JsonObject) -> str:
        raise NotImplementedError

    def x_JsonArray(self, e: ir.JsonArray) -> str:
        raise NotImplementedError

    # --- queries ------------------------------------------------------------------------

    def from_item(self, f: ir.From) -> str:
        if isinstance(f, ir.Table):
            return f"{quote(f.name)} AS {quote(f.alias)}"
        if isinstance(f, ir.Derived):
            return f"({self.select(f.query)}) AS {quote(f.alias)}"
        return (
            f"{self.from_item(f.left)} {f.kind} JOIN {self.from_item(f.right)}"
            f" ON {self.expr(f.on)}"
        )

    def order_item(self, o: ir.OrderBy) -> str:
        return f"{self.expr(o.expr)} {'DESC' if o.desc else 'ASC'}"

    def select(self, s: ir.Select, columns: str | None = None) -> str:
        if columns is None:
            columns = ", ".join(
                self.expr(e) if alias is None else f"{self.expr(e)} AS {quote(alias)}"
                for e, alias in s.columns
            )
        sql = f"SELECT {columns}"
        if s.from_ is not None:
            sql += f" FROM {self.from_item(s.from_)}"
        if s.where is not None:
            sql += f" WHERE {self.expr(s.where)}"
        if s.order_by:
            sql += " ORDER BY " + ", ".join(self.order_item(o) for o in s.order_by)
        if s.limit is not None:
            sql += f" LIMIT {self.expr(s.limit)}"
        if s.offset is not None:
            if s.limit is None:
                sql += f" LIMIT {self.no_limit}"
            sql += f" OFFSET {self.expr(s.offset)}"
        return sql

    no_limit = "ALL"

    def envelope(self, env: ir.Envelope) -> str:
        raise NotImplementedError

    # --- writes -------------------------------------------------------------------------

    def insert(self, s: ir.Insert) -> str:
        if s.columns:
            cols = ", ".join(quote(c) for c in s.columns)
            vals = ", ".join(self.expr(v) for v in s.values)
            sql = f"INSERT INTO {quote(s.table)} ({cols}) VALUES ({vals})"
        else:
            sql = f"INSERT INTO {quote(s.table)} DEFAULT VALUES"
        if s.returning:
            sql += f" RETURNING {quote(s.returning)}"
        return sql

    def update(self, s: ir.Update) -> str:
        sets = ", ".join(f"{quote(c)} = {self.expr(v)}" for c, v in s.sets)
        sql = f"UPDATE {quote(s.table)} SET {sets}"
        if s.where is not None:
            sql += f" WHERE {self.expr(s.where)}"
        return sql

    def delete(self, s: ir.Delete) -> str:
        sql = f"DELETE FROM {quote(s.table)}"
        if s.where is not None:
            sql += f" WHERE {self.expr(s.where)}"
        return sql


def renderer(dialect: str) -> Renderer:
    from fleetyard.sql.dialects import postgres, sqlite

    if dialect == "sqlite":
        return sqlite.SQLiteRenderer()
    if dialect == "postgres":
        return postgres.PostgresRenderer()
    raise ValueError(f"unknown SQL dialect {dialect!r}")
