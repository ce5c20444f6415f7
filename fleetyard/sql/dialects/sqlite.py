"""SQLite text for the SQL tree: what differs from the neutral renderer.

Booleans are integers and dates are ISO-8601 text (the schema stores them so), JSON is
built with json_object / json_group_array, and NULLs are ordered as on PostgreSQL: last
ascending, first descending (spec/decisions.md, "Query semantics"). An EXISTS nested as a
conjunct of another EXISTS becomes a join inside it: the same semi-join, but two sub-queries
fewer for SQLite's parser, whose fixed stack (before 3.46) a permission chain under four
levels of $expand overflows (the SDKs' getWithDeviceServiceDetails).
"""

from __future__ import annotations

from fleetyard.sql import ir
from fleetyard.sql.render import Renderer, quote_text

# json_object and json_insert take at most 127 arguments: 63 pairs per call.
_MAX_PAIRS = 63
_ISO = "'%Y-%m-%dT%H:%M:%fZ'"


def _part(fmt: str):
    return lambda x: f"CAST(strftime('{fmt}', {x}) AS INTEGER)"


class SQLiteRenderer(Renderer):
    name = "sqlite"
    true, false = "1", "0"
    no_limit = "-1"
    types = {
        "Serial": "INTEGER",
        "Big Serial": "INTEGER",
        "Integer": "INTEGER",
        "Big Integer": "INTEGER",
        "Real": "REAL",
        "Text": "TEXT",
        "Short Text": "TEXT",
        "Boolean": "INTEGER",
        "Date Time": "TEXT",
        "Date": "TEXT",
        "JSON": "TEXT",
    }
    functions = {
        "length": lambda s: f"length({s})",
        "instr": lambda s, sub: f"instr({s}, {sub})",
        # instr and substr compare exactly; LIKE would ignore ASCII case here only.
        "contains": lambda s, sub: f"(instr({s}, {sub}) > 0)",
        "startswith": lambda s, p: f"(substr({s}, 1, length({p})) = {p})",
        "endswith": lambda s, p: f"(substr({s}, length({s}) - length({p}) + 1) = {p})",
        "year": _part("%Y"),
        "month": _part("%m"),
        "day": _part("%d"),
        "hour": _part("%H"),
        "minute": _part("%M"),
        "second": _part("%S"),
        "fractionalseconds": lambda x: (
            f"(CAST(strftime('%f', {x}) AS REAL) - CAST(strftime('%S', {x}) AS INTEGER))"
        ),
        "date": lambda x: f"strftime('%Y-%m-%dT00:00:00.000Z', {x})",
        "time": lambda x: f"strftime('%H:%M:%f', {x})",
        "now": lambda: f"strftime({_ISO}, 'now')",
        "add_seconds": lambda x, n: f"strftime({_ISO}, {x}, ({n}) || ' seconds')",
        "round": lambda x: f"round({x})",
        "floor": lambda x: f"floor({x})",
        "ceiling": lambda x: f"ceil({x})",
        "mod": lambda a, b: f"(({a}) % ({b}))",
        "nonneg": lambda x: f"max({x}, 0)",
        "substr": lambda *a: f"substr({', '.join(a)})",
    }

    def x_Exists(self, e: ir.Exists) -> str:
        return super().x_Exists(ir.Exists(unnest(e.query)))

    def x_Param(self, e: ir.Param) -> str:
        return f"?{self.number(e.slot)}"

    def order_item(self, o: ir.OrderBy) -> str:
        return f"{self.expr(o.expr)} {'DESC NULLS FIRST' if o.desc else 'ASC NULLS LAST'}"

    def x_JsonValue(self, e: ir.JsonValue) -> str:
        x = self.expr(e.operand)
        if e.reference:
            return f"(CASE WHEN {x} IS NOT NULL THEN json_object('__id', {x}) END)"
        if e.type == "Boolean":
            return f"(CASE {x} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END)"
        if e.type in ("Big Integer", "Big Serial"):
            return f"CAST({x} AS TEXT)"
        if e.type == "JSON":
            return f"json({x})"
        return x

    def x_JsonObject(self, e: ir.JsonObject) -> str:
        pairs = list(e.pairs)
        head, rest = pairs[:_MAX_PAIRS], pairs[_MAX_PAIRS:]
        sql = "json_object(" + ", ".join(f"{quote_text(k)}, {self.expr(v)}" for k, v in head) + ")"
        while rest:
            chunk, rest = rest[:_MAX_PAIRS], rest[_MAX_PAIRS:]
            args = ", ".join(f"{quote_text('$.' + _path_key(k))}, {self.expr(v)}" for k, v in chunk)
            sql = f"json_insert({sql}, {args})"
        return sql

    def x_JsonArray(self, e: ir.JsonArray) -> str:
        (value, _), = e.query.columns
        return f"({self.select(e.query, columns=f'json_group_array({self.expr(value)})')})"

    def envelope(self, env: ir.Envelope) -> str:
        (value, _), = env.query.columns
        if env.count:
            body = f"'{{\"d\":' || {self.expr(value)} || '}}'"
        else:
            body = f"'{{\"d\":[' || COALESCE(group_concat({self.expr(value)}, ','), '') || ']}}'"
        return self.select(env.query, columns=body)


def _path_key(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


def _conjuncts(e: ir.Expr | None) -> list[ir.Expr]:
    if e is None:
        return []
    if isinstance(e, ir.Op) and e.op == "AND":
        return [c for arg in e.args for c in _conjuncts(arg)]
    return [e]


def _plain(s: ir.Select) -> bool:
    """An existence test whose rows only count by being there (no order, page or derived
    table), so its FROM and WHERE may merge into an enclosing one."""
    return (s.from_ is not None and s.limit is None and s.offset is None
            and not isinstance(s.from_, ir.Derived))


def _attach(left: ir.From, right: ir.From) -> ir.From:
    """`left` joined with every table of `right`, keeping right's own join conditions."""
    if isinstance(right, ir.Join):
        return ir.Join(_attach(left, right.left), right.right, right.on, right.kind)
    return ir.Join(left, right, ir.Const(True), "INNER")


def unnest(s: ir.Select) -> ir.Select:
    """EXISTS (SELECT 1 FROM a WHERE p AND EXISTS (SELECT 1 FROM b WHERE q)) as
    EXISTS (SELECT 1 FROM a JOIN b WHERE p AND q), inner levels first."""
    if not _plain(s):
        return s
    assert s.from_ is not None
    from_: ir.From = s.from_
    kept: list[ir.Expr] = []
    changed = False
    for c in _conjuncts(s.where):
        if isinstance(c, ir.Exists) and _plain(c.query):
            inner = unnest(c.query)
            assert inner.from_ is not None
            from_ = _attach(from_, inner.from_)
            kept.extend(_conjuncts(inner.where))
            changed = True
        else:
            kept.append(c)
    if not changed:
        return s
    where = kept[0] if len(kept) == 1 else ir.Op("AND", tuple(kept)) if kept else None
    return ir.Select(s.columns, from_, where, (), None, None)
