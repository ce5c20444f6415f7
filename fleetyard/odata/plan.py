"""The resolved plan: what the resolver hands the compiler.

Sources (one per place rows of a resource are read, each with its SQL alias), levels
(the FROM of one SELECT with its to-one joins), collections (rows to render as JSON
objects, with their filters, order and page) and the parameters' origins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetyard.errors import ResolveError
from fleetyard.model.schema import ComputeContext, Field, Navigation, Resource
from fleetyard.sql import ir


@dataclass(frozen=True)
class ParamSpec:
    """Where a statement parameter's value comes from: `bind` (the request's literal
    number `ref`), `const` (a value fixed at compile time) or `context` (a caller value
    such as `__ACTOR_ID`). `type` is the field type it is checked against and sent as;
    `name` the field it is compared with, for error messages."""

    kind: str
    ref: object
    type: str
    name: str


@dataclass(eq=False)
class Source:
    """One place rows of a resource are read, under one SQL alias."""

    resource: Resource
    alias: str
    level: "Level"


@dataclass(eq=False)
class Level:
    """The FROM of one SELECT: its base source and the to-one joins paths added to it."""

    base: Source | None = None
    joins: list[tuple[Source, ir.Expr]] = field(default_factory=list)
    _index: dict[tuple, Source] = field(default_factory=dict)

    def from_item(self) -> ir.From:
        assert self.base is not None
        item: ir.From = table_of(self.base)
        for src, on in self.joins:
            item = ir.Join(item, table_of(src), on)
        return item


@dataclass(eq=False)
class Collection:
    """Rows of a resource to be rendered as JSON objects (the main query or an $expand)."""

    level: Level
    where: list[ir.Expr]
    fields: list[Field]
    expansions: list["Expansion"]
    order: list[ir.OrderBy]
    top: ir.Expr | None = None
    skip: ir.Expr | None = None
    # The raw values the rendered objects read, by name: selected fields (computed ones
    # as their expressions) and the local fields expansions correlate on.
    columns: dict[str, ir.Expr] = field(default_factory=dict)

    @property
    def source(self) -> Source:
        assert self.level.base is not None
        return self.level.base


@dataclass(eq=False)
class Expansion:
    name: str
    nav: Navigation
    collection: Collection  # for a count: its where holds the rows to count
    count: bool = False


@dataclass(eq=False)
class Plan:
    """A resolved request. `collection` holds the rows the request is about (for a write:
    the rows it changes, as `where` over its source)."""

    method: str
    resource: Resource
    collection: Collection
    params: list[ParamSpec]
    count: bool = False  # `/$count`
    # The caller's rule over the addressed rows (None: every row). A write checks it on
    # the rows it changed too, so no row is moved out of the caller's reach.
    permission: ir.Expr | None = None
    keyed: bool = False
    key_values: list[ir.Expr] = field(default_factory=list)


def row_alias(src: Source) -> str:
    """The alias of the derived table holding `src`'s rows as compile.py renders them."""
    return "r" + src.alias


def table_of(src: Source) -> ir.Table | ir.Derived:
    r = src.resource
    if r.query is not None:
        ctx = ComputeContext(col=_no_columns, alias=lambda hint: f"{src.alias}_{hint}")
        return ir.Derived(r.query(ctx), src.alias)
    return ir.Table(r.table, src.alias)


def _no_columns(name: str) -> ir.Expr:
    raise ResolveError(f"a resource defined by a query has no row to read '{name}' from")


def _and(conds: list[ir.Expr]) -> ir.Expr:
    conds = [c for c in conds if c is not None]
    return conds[0] if len(conds) == 1 else ir.Op("AND", tuple(conds))
