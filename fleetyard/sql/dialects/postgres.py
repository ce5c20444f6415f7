"""PostgreSQL text for the SQL tree: what differs from the neutral renderer.

Parameters are `$n` with an explicit cast (asyncpg prepares statements and must know every
parameter's type); JSON is built with json_build_object / json_agg; dates leave as
ISO-8601 text with milliseconds and `Z` (spec/odata.md §9.2).
"""

from __future__ import annotations

from fleetyard.sql import ir
from fleetyard.sql.render import _COMPARE, Renderer, quote, quote_text

# json_build_object takes at most 100 arguments (50 pairs): wider objects are built from
# a one-row derived table with row_to_json, which keeps the keys in order.
_MAX_PAIRS = 50

_ISO = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'"


def _utc(x: str) -> str:
    return f"({x} AT TIME ZONE 'UTC')"


def _part(field: str):
    return lambda x: f"CAST(EXTRACT({field} FROM {_utc(x)}) AS INTEGER)"


class PostgresRenderer(Renderer):
    name = "postgres"
    types = {
        "Serial": "integer",
        "Big Serial": "bigint",
        "Integer": "integer",
        "Big Integer": "bigint",
        "Real": "double precision",
        "Text": "text",
        "Short Text": "text",
        "Boolean": "boolean",
        "Date Time": "timestamptz",
        "Date": "timestamptz",
        "JSON": "jsonb",
    }
    functions = {
        "length": lambda s: f"char_length({s})",
        "instr": lambda s, sub: f"strpos({s}, {sub})",
        "contains": lambda s, sub: f"(strpos({s}, {sub}) > 0)",
        "startswith": lambda s, p: f"starts_with({s}, {p})",
        "endswith": lambda s, p: f"(right({s}, char_length({p})) = {p})",
        "year": _part("YEAR"),
        "month": _part("MONTH"),
        "day": _part("DAY"),
        "hour": _part("HOUR"),
        "minute": _part("MINUTE"),
        "second": lambda x: f"CAST(FLOOR(EXTRACT(SECOND FROM {_utc(x)})) AS INTEGER)",
        "fractionalseconds": lambda x: (
            f"(EXTRACT(SECOND FROM {_utc(x)}) - FLOOR(EXTRACT(SECOND FROM {_utc(x)})))"
        ),
        "date": lambda x: f"date_trunc('day', {x}, 'UTC')",
        "time": lambda x: f"to_char({_utc(x)}, 'HH24:MI:SS.MS')",
        "now": lambda: "CURRENT_TIMESTAMP",
        "add_seconds": lambda x, n: f"({x} + make_interval(secs => {n}))",
        # round half away from zero on both databases: numeric, not double precision
        "round": lambda x: f"round(CAST({x} AS numeric))",
        "floor": lambda x: f"floor({x})",
        "ceiling": lambda x: f"ceil({x})",
        "mod": lambda a, b: f"mod({a}, {b})",
        "nonneg": lambda x: f"GREATEST({x}, 0)",
        "substr": lambda *a: f"substr({', '.join(a)})",
    }

    def x_Param(self, e: ir.Param) -> str:
        n = self.number(e.slot)
        return f"${n}" if e.type is None else f"${n}::{self.types[e.type]}"

    def x_Op(self, e: ir.Op) -> str:
        if e.op in ("IS", "IS NOT"):
            a, b = (self.operand(x, _COMPARE) for x in e.args)
            return f"{a} IS {'NOT ' if e.op == 'IS' else ''}DISTINCT FROM {b}"
        return super().x_Op(e)

    def order_item(self, o: ir.OrderBy) -> str:
        # Compare text as bytes (as SQLite does), whatever the database's locale.
        collate = ' COLLATE "C"' if o.text else ""
        return f"{self.expr(o.expr)}{collate} {'DESC' if o.desc else 'ASC'}"

    def x_JsonValue(self, e: ir.JsonValue) -> str:
        x = self.expr(e.operand)
        if e.reference:
            return f"(CASE WHEN {x} IS NULL THEN NULL ELSE json_build_object('__id', {x}) END)"
        if e.type in ("Date Time", "Date"):
            return f"to_char({_utc(x)}, {_ISO})"
        if e.type in ("Big Integer", "Big Serial"):
            return f"CAST({x} AS text)"
        return x

    def x_JsonObject(self, e: ir.JsonObject) -> str:
        if len(e.pairs) <= _MAX_PAIRS:
            args = ", ".join(f"{quote_text(k)}, {self.expr(v)}" for k, v in e.pairs)
            return f"json_build_object({args})"
        cols = ", ".join(f"{self.expr(v)} AS {quote(k)}" for k, v in e.pairs)
        return f"(SELECT row_to_json(_wide) FROM (SELECT {cols}) AS _wide)"

    def x_JsonArray(self, e: ir.JsonArray) -> str:
        (value, _), = e.query.columns
        agg = f"COALESCE(json_agg({self.expr(value)}), '[]'::json)"
        return f"({self.select(e.query, columns=agg)})"

    def envelope(self, env: ir.Envelope) -> str:
        (value, _), = env.query.columns
        if env.count:
            body = f"'{{\"d\":' || {self.expr(value)} || '}}'"
        else:
            body = f"'{{\"d\":' || COALESCE(json_agg({self.expr(value)})::text, '[]') || '}}'"
        return self.select(env.query, columns=body)
