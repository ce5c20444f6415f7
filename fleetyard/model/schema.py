"""The shape of a model: resources, fields, navigations, keys, computed fields.

The OData engine (`fleetyard.odata`) resolves requests against a `Model`; DDL, OData
names and docs are derived from it. The engine knows no resource by name: balena's model
is one `Model` value, the engine's tests use another.

SQL names are the OData names (`belongs_to__application` is both), so no renaming table
sits between the two.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from fleetyard.errors import UnknownResource

if TYPE_CHECKING:
    from fleetyard.sql import ir

# Field types (spec/model.md §1, Pine's sbvr-types). A foreign key is an 'Integer' field
# with `references` set.
FIELD_TYPES = (
    "Serial",
    "Big Serial",
    "Integer",
    "Big Integer",
    "Real",
    "Text",
    "Short Text",
    "Boolean",
    "Date Time",
    "Date",
    "JSON",
)

NUMERIC_TYPES = frozenset({"Serial", "Big Serial", "Integer", "Big Integer", "Real"})
INTEGER_TYPES = frozenset({"Serial", "Big Serial", "Integer", "Big Integer"})
TEXT_TYPES = frozenset({"Text", "Short Text"})
DATE_TYPES = frozenset({"Date Time", "Date"})


class _Now:
    """The default 'the time the row is written' (rendered CURRENT_TIMESTAMP)."""

    def __repr__(self) -> str:
        return "NOW"


NOW = _Now()


class ComputeContext:
    """What a computed field's builder gets: this row's columns and fresh aliases.

    `col(name)` is this row's stored column `name` (or another computed field);
    `alias(hint)` is a table alias no other part of the statement uses.
    """

    def __init__(self, col: Callable[[str], "ir.Expr"], alias: Callable[[str], str]):
        self.col = col
        self.alias = alias


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    required: bool = False  # NOT NULL
    unique: bool = False
    default: object = None  # a Python value, NOW, or None (no default)
    references: str | None = None  # a foreign key to this resource's id
    computed: Callable[[ComputeContext], "ir.Expr"] | None = None  # read-only SQL expression
    max_length: int | None = None  # Short Text: 255 unless given
    writable: bool = True  # False: ignored in request bodies (computed fields always are)
    touch: bool = False  # set to the current time by every UPDATE (`modified_at`)
    # False: a secret the API never returns nor filters on (user.password, api_key.key;
    # spec/model.md §8.4). Stored and written like any field.
    readable: bool = True
    # When set, the only values the field may hold (the reference's check constraints,
    # e.g. release.status; an other value is a 400 "Check constraint violated").
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r} for field {self.name!r}")

    @property
    def stored(self) -> bool:
        return self.computed is None

    @property
    def is_writable(self) -> bool:
        return self.writable and self.computed is None and self.type not in ("Serial", "Big Serial")


@dataclass(frozen=True, slots=True)
class Navigation:
    """A named way from one resource's rows to another's: rows of `target` whose field
    `remote` equals this row's field `local`. `many` says whether several rows may match
    (a reverse navigation) or at most one (a foreign key, forward). A `hidden` one is not
    the client's to name — an older version's model keeps the canonical navigations it
    does not show, because the server's own filters (permission rules) speak of them."""

    name: str
    target: str
    local: str
    remote: str
    many: bool
    hidden: bool = False


@dataclass(frozen=True)
class Resource:
    name: str
    fields: tuple[Field, ...]
    navigations: tuple[Navigation, ...] = ()
    synonyms: tuple[str, ...] = ()
    table: str = ""  # SQL table name; the resource name when empty
    id_field: str = "id"
    unique_together: tuple[tuple[str, ...], ...] = ()  # composite UNIQUE sets
    # A resource defined by a query (no table): builds a SELECT whose output columns are
    # named after `fields`. Read-only.
    query: Callable[[ComputeContext], "ir.Select"] | None = None
    # An OData filter every read of this resource's rows is narrowed by (it may use
    # `@__ACTOR_ID`): a resource that is a view of its table, such as v6's
    # `my_application` over `application`.
    where: str | None = None
    # The resource whose permission rules apply to this one (a view borrows its table's).
    rules_from: str = ""

    _fields: dict[str, Field] = field(init=False, repr=False, compare=False)
    _navs: dict[str, Navigation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.table:
            object.__setattr__(self, "table", self.name)
        object.__setattr__(self, "_fields", {f.name: f for f in self.fields})
        object.__setattr__(self, "_navs", {n.name: n for n in self.navigations})
        if self.id_field not in self._fields:
            raise ValueError(f"resource {self.name!r} has no id field {self.id_field!r}")

    @property
    def read_only(self) -> bool:
        return self.query is not None

    @property
    def stores_rows(self) -> bool:
        """Whether this resource has a table of its own (a query or a view has none)."""
        return self.query is None and self.where is None

    def field(self, name: str) -> Field | None:
        return self._fields.get(name)

    def navigation(self, name: str) -> Navigation | None:
        return self._navs.get(name)

    def names(self) -> list[str]:
        return list(self._fields) + [n for n, nav in self._navs.items() if not nav.hidden]

    def suggest(self, name: str) -> str | None:
        """The nearest field or navigation name a client may use, for an error message."""
        names = [n for n in self.names() if (f := self._fields.get(n)) is None or f.readable]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return close[0] if close else None

    def is_unique_set(self, names: frozenset[str]) -> bool:
        """Whether these fields identify at most one row (a key, a unique field, or
        exactly the fields of a composite unique set)."""
        if len(names) == 1:
            (only,) = names
            f = self._fields.get(only)
            return f is not None and (f.unique or only == self.id_field)
        return any(frozenset(s) == names for s in self.unique_together)


class Model:
    """A set of resources, reachable by their names and synonyms."""

    def __init__(self, resources: list[Resource] | tuple[Resource, ...]):
        self.resources: dict[str, Resource] = {}
        self._names: dict[str, Resource] = {}
        for r in resources:
            if r.name in self.resources:
                raise ValueError(f"resource {r.name!r} defined twice")
            self.resources[r.name] = r
            for n in (r.name, *r.synonyms):
                if n in self._names:
                    raise ValueError(f"resource name {n!r} used twice")
                self._names[n] = r
        for r in resources:
            for nav in r.navigations:
                target = self.resources.get(nav.target)
                if target is None:
                    raise ValueError(f"{r.name}.{nav.name} targets unknown resource {nav.target!r}")
                if r.field(nav.local) is None or target.field(nav.remote) is None:
                    raise ValueError(f"{r.name}.{nav.name} joins on unknown fields")
            for f in r.fields:
                if f.references is not None and f.references not in self.resources:
                    raise ValueError(f"{r.name}.{f.name} references unknown {f.references!r}")

    def get(self, name: str) -> Resource | None:
        return self._names.get(name)

    def resource(self, name: str) -> Resource:
        r = self._names.get(name)
        if r is None:
            raise UnknownResource(name)
        return r
