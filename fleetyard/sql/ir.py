"""A small SQL tree: what the OData compiler emits and each dialect renders.

Stage 4 of the pipeline (compile → *render*). Nodes say what is meant ("a JSON boolean
of this column", "a JSON array of these rows"); the dialect decides how to say it, so
the compiler never writes dialect text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# --- expressions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Col:
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class Param:
    """Bind parameter number `slot` (0-based); `type` is the SQL type the value is sent as
    (one of the model's field types), rendered as an explicit cast where a dialect needs
    it to know the type (PostgreSQL, for an untyped parameter)."""

    slot: int
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Const:
    """A constant from the model or the compiler (never from a request): rendered inline."""

    value: object  # str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Op:
    """Infix operator over 2+ operands: AND OR = <> < <= > >= + - * / || IS, IS NOT."""

    op: str
    args: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Not:
    """NOT, where a NULL operand counts as false (so the result is never NULL)."""

    operand: "Expr"


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: "Expr"
    negate: bool = False


@dataclass(frozen=True, slots=True)
class InList:
    operand: "Expr"
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Func:
    """A function by its neutral name; dialects map names that differ (see render.py)."""

    name: str
    args: tuple["Expr", ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    whens: tuple[tuple["Expr", "Expr"], ...]
    else_: "Expr | None" = None
    subject: "Expr | None" = None  # CASE subject WHEN … (simple form)


@dataclass(frozen=True, slots=True)
class Exists:
    query: "Select"


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar sub-query `(SELECT …)`."""

    query: "Select"


@dataclass(frozen=True, slots=True)
class Cast:
    operand: "Expr"
    type: str  # a model field type


# JSON building. `JsonValue` formats one value of a model field type for a JSON document;
# `JsonObject` builds an object with keys in the given order; `JsonArray` aggregates the
# single output column (an object) of `query` into an array, `[]` when there are no rows.


@dataclass(frozen=True, slots=True)
class JsonValue:
    operand: "Expr"
    type: str  # model field type
    reference: bool = False  # a foreign key not expanded: {"__id": n} or null


@dataclass(frozen=True, slots=True)
class JsonObject:
    pairs: tuple[tuple[str, "Expr"], ...]


@dataclass(frozen=True, slots=True)
class JsonArray:
    query: "Select"  # one column: a JsonObject (or any JSON value)


Expr = Union[
    Col, Param, Const, Op, Not, IsNull, InList, Func, Case, Exists, Scalar, Cast,
    JsonValue, JsonObject, JsonArray,
]

# --- queries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    alias: str


@dataclass(frozen=True, slots=True)
class Derived:
    query: "Select"
    alias: str


@dataclass(frozen=True, slots=True)
class Join:
    left: "From"
    right: "Table | Derived"
    on: Expr
    kind: str = "LEFT"


From = Union[Table, Derived, Join]


@dataclass(frozen=True, slots=True)
class OrderBy:
    expr: Expr
    desc: bool = False
    text: bool = False  # a text key: dialects compare bytes, not a locale


@dataclass(frozen=True, slots=True)
class Select:
    columns: tuple[tuple[Expr, str | None], ...]
    from_: From | None = None
    where: Expr | None = None
    order_by: tuple[OrderBy, ...] = ()
    limit: Expr | None = None
    offset: Expr | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """The top-level document `{"d": [rows…]}` as one text value: `query` has one column,
    a JsonObject per row. With `count=True`, `query`'s single column is a number and the
    document is `{"d": n}`."""

    query: Select
    count: bool = False


# --- writes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Insert:
    table: str
    columns: tuple[str, ...]
    values: tuple[Expr, ...]
    returning: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    table: str
    sets: tuple[tuple[str, Expr], ...]
    where: Expr | None


@dataclass(frozen=True, slots=True)
class Delete:
    table: str
    where: Expr | None


Statement = Union[Select, Envelope, Insert, Update, Delete]
