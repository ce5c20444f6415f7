"""The parse tree of one OData request: what `fleetyard.odata.parse` returns.

Stage 1 of the pipeline (parse → resolve → compile → render). Every literal of the URL is
a `Literal` node pointing into `Request.binds`, so two URLs that differ only in their
values have equal trees: the tree is the cache key of the compiled statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# ---------------------------------------------------------------------------------------
# Bound values
# ---------------------------------------------------------------------------------------

# The kinds of literal the dialect has (odata.md §5.3). A number is always 'Real' in the
# tree; its Python value is an int when it was written without a fraction.
LITERAL_KINDS = ("Real", "Text", "Boolean", "DateTime", "Date")


@dataclass(frozen=True, slots=True)
class BindValue:
    """A literal's value, kept out of the tree: `kind` is one of LITERAL_KINDS.

    Real → int | float; Text → str (already un-quoted and percent-decoded);
    Boolean → bool; DateTime / Date → datetime.datetime (timezone-aware, UTC).
    """

    kind: str
    value: object


# ---------------------------------------------------------------------------------------
# Expressions ($filter, $orderby, keys)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal written in the URL: `Request.binds[index]` holds its value."""

    kind: str
    index: int


@dataclass(frozen=True, slots=True)
class Null:
    pass


@dataclass(frozen=True, slots=True)
class Duration:
    """`duration'-P1DT2H3M4.5S'`. Kept inline (not bound), as the reference does."""

    negative: bool
    days: int
    hours: int
    minutes: int
    seconds: float

    def total_seconds(self) -> float:
        s = self.days * 86400 + self.hours * 3600 + self.minutes * 60 + self.seconds
        return -s if self.negative else s


@dataclass(frozen=True, slots=True)
class AliasRef:
    """`@name` whose definition was not among the query options (resolving refuses it).

    Aliases that are defined are replaced by their `Literal` while parsing.
    """

    name: str


@dataclass(frozen=True, slots=True)
class Key:
    """A key in parentheses: `(1)`, `('x')`, `(uuid='…')`, `(device=1,tag_key='env')`.

    `parts` is a tuple of (field name or None for the plain key, value), value being a
    Literal or an AliasRef.
    """

    parts: tuple[tuple[str | None, "Literal | AliasRef"], ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """One name of a property path, with the key written after it, if any."""

    name: str
    key: Key | None = None


@dataclass(frozen=True, slots=True)
class Lambda:
    """`nav/any(v: expr)` or `nav/all(v: expr)`."""

    kind: str  # 'any' | 'all'
    variable: str
    body: "Expr"


@dataclass(frozen=True, slots=True)
class CountOf:
    """`nav/$count` or `nav/$count($filter=…)`."""

    filter: "Expr | None" = None


@dataclass(frozen=True, slots=True)
class MethodCall:
    """`nav/method(args)`: a resource method such as `canAccess()`."""

    name: str
    args: tuple["Expr", ...] = ()


@dataclass(frozen=True, slots=True)
class Path:
    """A property path: `name`, `a/b/c`, `a(k='v')/b`, ending optionally in a lambda,
    a `$count` or a method call. The first segment may be a lambda variable."""

    segments: tuple[Segment, ...]
    tail: "Lambda | CountOf | MethodCall | None" = None


@dataclass(frozen=True, slots=True)
class BinOp:
    """An n-ary operator node. Pine flattens runs of one operator (odata.md §5.2):
    `a sub 1 sub 2` is BinOp('sub', (a, 1, 2)); `and` and `or` share one level."""

    op: str  # eq ne gt ge lt le and or add sub mul div mod
    args: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class In:
    """`expr in (v1, v2, …)`: items are Literal or Null (odata.md §5.3)."""

    operand: "Expr"
    items: tuple["Literal | Null", ...]


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: `contains(a,'x')`, `now()`, …"""

    name: str
    args: tuple["Expr", ...]


Expr = Union[Literal, Null, Duration, AliasRef, Path, BinOp, Not, In, Call]

# ---------------------------------------------------------------------------------------
# Query options
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderItem:
    path: Expr  # a Path (possibly ending in CountOf)
    direction: str  # 'asc' | 'desc' — 'desc' when none was written (odata.md §8)


@dataclass(frozen=True, slots=True)
class ExpandItem:
    """One `$expand` item. `$expand=a/b` is stored as a($expand=b)."""

    name: str
    options: "Options"
    count: bool = False  # `nav/$count`


@dataclass(frozen=True, slots=True)
class Options:
    """System and custom query options. `None` means the option was not given."""

    select: tuple[Path, ...] | None = None  # () never occurs; ('*',) is `star=True`
    select_all: bool = False  # `$select=*`
    filter: Expr | None = None
    expand: tuple[ExpandItem, ...] | None = None
    orderby: tuple[OrderItem, ...] | None = None
    top: Literal | None = None  # kind 'Real', value a non-negative int
    skip: Literal | None = None
    count: bool | None = None  # `$count=true|false`: parsed and ignored (odata.md §4)
    inlinecount: str | None = None
    format: str | None = None
    custom: tuple[tuple[str, str], ...] = ()  # `returnResource=false`, …


# ---------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """`/resource(key)/nav(key)/…[/$count][/$links/…]?options`.

    An action such as `/device(1)/canAccess` is a navigation segment here; resolving
    tells the two apart.

    Equality and hashing ignore `binds`: two requests are equal when they have the same
    shape, whatever their literal values. Compare `binds` too for value equality.
    """

    resource: str
    key: Key | None = None
    navigation: tuple[Segment, ...] = ()  # `/application(1)/owns__device(5)`
    count: bool = False  # `/$count`
    links: bool = False  # `/$links/` before the last navigation segment
    options: Options = field(default_factory=Options)
    binds: tuple[BindValue, ...] = field(default=(), compare=False)
    special: str | None = None  # '$metadata', '/' (service root), '$N' (content ref)
