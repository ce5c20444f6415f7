"""A version as a table of differences from the canonical model, and the model it derives.

The versions stage (DESIGN.md "The pipeline"): an older API version is never a copy of the
model. It names what differs — per resource, fields and navigations replaced, added,
hidden, renamed; whole resources removed or added — and `derive` builds its `Model` from
the canonical one, so a field added to v7 appears in v6 without a line here.

A stored field or a navigation the version does not show is hidden, never dropped: the
domain rules and the write translation still write the field, and the permission rules —
written in canonical names — still name both (the resolver lets only the server's own
filters see hidden names). A rename (`Alias`) is the one entry that acts on both
directions: reads see the canonical column under the old name, and a body's old key is
written to the canonical field (`write_renames`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from fleetyard.model.schema import ComputeContext, Field, Model, Navigation, Resource
from fleetyard.sql import ir

# --- the entries of a table -------------------------------------------------------------


@dataclass(frozen=True)
class Replace:
    """The field of that name, defined otherwise (a computed stand-in, another type)."""

    field: Field


@dataclass(frozen=True)
class Add:
    """A field the canonical resource does not have (computed: a version reads it only)."""

    field: Field


@dataclass(frozen=True)
class Hide:
    """A canonical field the version does not know: stored and written, never shown."""

    name: str


@dataclass(frozen=True)
class Alias:
    """The version's name `name` for the canonical field `canonical`: read under the old
    name (a foreign key stays one, to `target` when the version names its resource
    otherwise), written through it, and the canonical name hidden, its to-one navigation
    too. The navigation of the old name replaces any the canonical model has."""

    name: str
    canonical: str
    target: str | None = None


@dataclass(frozen=True)
class AddNav:
    navigation: Navigation


@dataclass(frozen=True)
class HideNav:
    """A canonical navigation the version does not know."""

    name: str


Change = Replace | Add | Hide | Alias | AddNav | HideNav

# An added resource, built from the resources derived so far (a view of one of them).
Builder = Callable[[Mapping[str, Resource]], Resource]


@dataclass(frozen=True)
class Differences:
    """What one version changes: per canonical resource, its changes; resources it does
    not have; resources only it has (built after the others, in order)."""

    resources: Mapping[str, Sequence[Change]]
    removed: Sequence[str] = ()
    added: Sequence[Builder] = ()


# --- deriving the version's model -------------------------------------------------------


def derive(canonical: Model, table: Differences) -> Model:
    """The version's `Model`: the canonical resources with the table applied."""
    for name in [*table.resources, *table.removed]:
        if canonical.get(name) is None:
            raise ValueError(f"the table names '{name}', which the canonical model does not have")
    removed = set(table.removed)
    derived: dict[str, Resource] = {}
    for name, r in canonical.resources.items():
        if name in removed:
            continue
        derived[name] = _apply(r, table.resources.get(name, ()))
    for build in table.added:
        r = build(derived)
        derived[r.name] = r
    # A navigation into a resource the version does not have goes with it; a foreign key
    # to one is hidden (the rules may still write it).
    for name, r in derived.items():
        navs = tuple(n for n in r.navigations if n.target in derived)
        fields = tuple(dataclasses.replace(f, references=None, readable=False)
                       if f.references is not None and f.references not in derived else f for f in r.fields)
        if navs != r.navigations or fields != r.fields:
            derived[name] = dataclasses.replace(r, fields=fields, navigations=navs)
    return Model(list(derived.values()))


def _apply(r: Resource, changes: Sequence[Change]) -> Resource:
    fields = list(r.fields)
    navs = list(r.navigations)

    def index(name: str) -> int:
        for i, f in enumerate(fields):
            if f.name == name:
                return i
        raise ValueError(f"'{r.name}' has no field '{name}'")

    def put_nav(nav: Navigation) -> None:
        navs[:] = [n for n in navs if n.name != nav.name] + [nav]

    def hide_navs(names: set[str]) -> None:
        navs[:] = [dataclasses.replace(n, hidden=True) if n.name in names else n for n in navs]

    for change in changes:
        if isinstance(change, Replace):
            fields[index(change.field.name)] = change.field
        elif isinstance(change, Add):
            if any(f.name == change.field.name for f in fields):
                raise ValueError(f"'{r.name}' already has a field '{change.field.name}'")
            fields.append(change.field)
        elif isinstance(change, Hide):
            i = index(change.name)
            fields[i] = dataclasses.replace(fields[i], readable=False)
            hide_navs({change.name})
        elif isinstance(change, Alias):
            i = index(change.canonical)
            real = fields[i]
            if not real.stored:
                raise ValueError(f"{r.name}.{change.canonical} is computed: only a stored field has an alias")
            fields[i] = dataclasses.replace(real, readable=False)
            alias = Field(change.name, real.type, references=change.target or real.references,
                          computed=_column(change.canonical))
            if any(f.name == change.name for f in fields):
                fields[index(change.name)] = alias
            else:
                fields.insert(i + 1, alias)
            hide_navs({n.name for n in navs if n.local == change.canonical and not n.many})
            if alias.references is not None:
                put_nav(Navigation(change.name, alias.references, change.name, "id", many=False))
        elif isinstance(change, AddNav):
            put_nav(change.navigation)
        elif isinstance(change, HideNav):
            if not any(n.name == change.name for n in navs):
                raise ValueError(f"'{r.name}' has no navigation '{change.name}'")
            hide_navs({change.name})
    return dataclasses.replace(r, fields=tuple(fields), navigations=tuple(navs))


def _column(name: str) -> Callable[[ComputeContext], ir.Expr]:
    def read(ctx: ComputeContext) -> ir.Expr:
        return ctx.col(name)

    read.__name__ = f"column_{name}"
    return read


def write_renames(table: Differences) -> dict[str, dict[str, str]]:
    """Per resource, the body keys the version writes under another name: old → canonical."""
    return {name: {c.name: c.canonical for c in changes if isinstance(c, Alias)}
            for name, changes in table.resources.items()
            if any(isinstance(c, Alias) for c in changes)}


# --- small builders the tables share ----------------------------------------------------


def null(type_: str) -> Callable[[ComputeContext], ir.Expr]:
    """Always null, typed (PostgreSQL cannot compare an untyped NULL column)."""
    def read(ctx: ComputeContext) -> ir.Expr:
        return ir.Cast(ir.Const(None), type_)

    read.__name__ = f"null_{type_.replace(' ', '_').lower()}"
    return read


def hidden(f: Field) -> Field:
    return dataclasses.replace(f, readable=False)


def hidden_navigations(r: Resource, own: tuple[Navigation, ...]) -> tuple[Navigation, ...]:
    """A view's navigations: its `own`, and hidden copies of the viewed resource's others,
    so the rules it borrows from `r` (`rules_from`) name what they name there."""
    names = {n.name for n in own}
    return tuple(dataclasses.replace(n, hidden=True) for n in r.navigations if n.name not in names) + own
