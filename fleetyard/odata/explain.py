"""`fleetyard explain '<url>'`: one request through every stage, printed.

Shows the parse tree, the resolved plan and the SQL for both dialects, so a reader can
see where a request goes wrong (or fast) without a database.
"""

from __future__ import annotations

import pprint

from fleetyard.model.schema import Model
from fleetyard.odata.compile import compile_read
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.plan import Collection, Plan
from fleetyard.odata.resolve import Resolver
from fleetyard.sql.render import renderer


def describe_plan(plan: Plan, sql_of) -> str:
    lines = [f"{plan.method} {plan.resource.name}{' /$count' if plan.count else ''}"]
    _collection(plan.collection, sql_of, lines, "  ")
    if plan.params:
        lines.append("  parameters:")
        for i, p in enumerate(plan.params, 1):
            lines.append(f"    {i}: {p.kind} {p.ref!r} as {p.type} ({p.name})")
    return "\n".join(lines)


def _collection(c: Collection, sql_of, lines: list[str], pad: str) -> None:
    src = c.source
    lines.append(f"{pad}rows of {src.resource.name} AS {src.alias}")
    for joined, on in c.level.joins:
        lines.append(f"{pad}  left join {joined.resource.name} AS {joined.alias} ON {sql_of(on)}")
    for w in c.where:
        lines.append(f"{pad}  where {sql_of(w)}")
    if c.fields:
        lines.append(f"{pad}  fields: {', '.join(f.name for f in c.fields)}")
    for o in c.order:
        lines.append(f"{pad}  order by {sql_of(o.expr)} {'desc' if o.desc else 'asc'}")
    if c.top is not None:
        lines.append(f"{pad}  top {sql_of(c.top)}")
    if c.skip is not None:
        lines.append(f"{pad}  skip {sql_of(c.skip)}")
    for e in c.expansions:
        lines.append(f"{pad}  expand {e.name}{' (count)' if e.count else ''}:")
        _collection(e.collection, sql_of, lines, pad + "    ")


def _expr_text(r, count: int):
    """Render one expression with parameters numbered as in the plan's list."""
    def text(e):
        r._slots = {i: i + 1 for i in range(count)}
        return r.expr(e)
    return text


def explain(url: str, model: Model, permissions: Permissions | None = None, method: str = "GET") -> str:
    permissions = permissions or Permissions.all()
    req = parse(url)
    plan = Resolver(model, permissions, req.binds).resolve(req, method)
    sqlite, postgres = renderer("sqlite"), renderer("postgres")
    out = [
        "== parse tree",
        pprint.pformat(req, width=100),
        "== binds",
        pprint.pformat(req.binds, width=100),
        "== plan",
        describe_plan(plan, _expr_text(sqlite, len(plan.params))),
    ]
    if method == "GET":
        statement = compile_read(plan)
        out += ["== SQLite", sqlite.render(statement)[0], "== PostgreSQL", postgres.render(statement)[0]]
    return "\n".join(out)
