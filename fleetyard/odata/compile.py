"""Compile a resolved plan into SQL-tree statements.

Stage 3 of the pipeline (resolve → *compile* → render). Reads follow one shape at every
level, so the database builds the whole document (spec/sql-floor.md): an inner SELECT
picks the rows and their raw columns (filter, order, page), and the outer one turns each
row into a JSON object — expansions are correlated sub-queries of the outer row.
"""

from __future__ import annotations

from fleetyard.model.schema import NOW, Field, Resource
from fleetyard.odata.plan import Collection, Expansion, Plan, _and, row_alias
from fleetyard.sql import ir


def compile_read(plan: Plan) -> ir.Envelope:
    coll = plan.collection
    if plan.count:
        # /$count ignores $orderby, $top and $skip (odata.md §4).
        sel = ir.Select(((ir.Func("count"), None),), coll.level.from_item(), _where(coll))
        return ir.Envelope(sel, count=True)
    return ir.Envelope(rows(coll))


def rows(coll: Collection) -> ir.Select:
    """SELECT <object> FROM (<inner rows>) AS r<alias>: one JSON object per row."""
    src = coll.source
    outer = row_alias(src)
    columns = tuple((expr, name) for name, expr in coll.columns.items())
    # Expansions first, then fields, as the reference orders keys (odata.md §9.2).
    pairs = [(exp.name, expansion(exp)) for exp in coll.expansions]
    for f in coll.fields:
        value = ir.JsonValue(ir.Col(outer, f.name), f.type, reference=f.references is not None)
        pairs.append((f.name, value))
    inner = ir.Select(
        columns, coll.level.from_item(), _where(coll), tuple(coll.order), coll.top, coll.skip
    )
    return ir.Select(((ir.JsonObject(tuple(pairs)), None),), ir.Derived(inner, outer))


def expansion(exp: Expansion) -> ir.Expr:
    coll = exp.collection
    if exp.count:
        return ir.Scalar(ir.Select(((ir.Func("count"), None),), coll.level.from_item(), _where(coll)))
    return ir.JsonArray(rows(coll))


def _where(coll: Collection) -> ir.Expr | None:
    return _and(coll.where) if coll.where else None


# --- writes -----------------------------------------------------------------------------


def row_set(plan: Plan) -> ir.Select:
    """The ids of the rows a PATCH or DELETE changes (filter, permission, order, page)."""
    coll = plan.collection
    src = coll.source
    return ir.Select(
        ((ir.Col(src.alias, src.resource.id_field), None),),
        coll.level.from_item(),
        _where(coll),
        tuple(coll.order[:-1]) if coll.top is None and coll.skip is None else tuple(coll.order),
        coll.top,
        coll.skip,
    )


def compile_update(r: Resource, sets: list[tuple[str, ir.Expr]], where: ir.Expr) -> ir.Update:
    """UPDATE the rows `where` picks; fields that record the time of a change are set too."""
    touched: list[tuple[str, ir.Expr]] = [
        (f.name, ir.Func("now")) for f in r.fields if f.touch and f.name not in dict(sets)]
    return ir.Update(r.table, tuple(sets + touched), where)


def compile_delete(r: Resource, where: ir.Expr) -> ir.Delete:
    return ir.Delete(r.table, where)


def default_value(f: Field) -> ir.Expr:
    if f.default is NOW:
        return ir.Func("now")
    return ir.Const(f.default)
