"""Building blocks shared by the balena model's areas: the common columns, foreign keys,
navigations with their alias names, and the "parent has key = value" resources.

Part of `model/balena` (the data the engine is handed; see `__init__.py`). Names follow
Pine's conventions (spec/model.md §0.2): SQL names are the OData names.
"""

from __future__ import annotations

from fleetyard.model.schema import NOW, Field, Navigation, Resource


def common() -> tuple[Field, ...]:
    """`id`, `created_at`, `modified_at`: every resource has them (model.md §0.2); the
    last one is reset to the current time by every UPDATE."""
    return (
        Field("id", "Serial", required=True),
        Field("created_at", "Date Time", required=True, default=NOW, writable=False),
        Field("modified_at", "Date Time", required=True, default=NOW, writable=False, touch=True),
    )


def fk(name: str, target: str, *, required: bool = False, unique: bool = False) -> Field:
    """A foreign key to `target`'s id (rendered `{"__id": n}` in v7, model.md §0.3)."""
    return Field(name, "Integer", required=required, unique=unique, references=target)


def text(name: str, *, required: bool = False, unique: bool = False,
         default: object = None, choices: tuple[str, ...] = ()) -> Field:
    return Field(name, "Text", required=required, unique=unique, default=default, choices=choices)


def short(name: str, *, required: bool = False, unique: bool = False,
          default: object = None, choices: tuple[str, ...] = ()) -> Field:
    return Field(name, "Short Text", required=required, unique=unique, default=default,
                 choices=choices)


def flag(name: str, default: bool = False) -> Field:
    """A Boolean fact: NOT NULL, false unless said otherwise (sbvr-types, model.md §1)."""
    return Field(name, "Boolean", required=True, default=default)


def integer(name: str, *, required: bool = False, default: object = None) -> Field:
    return Field(name, "Integer", required=required, default=default)


def date(name: str, *, required: bool = False) -> Field:
    return Field(name, "Date Time", required=required)


# --- navigations --------------------------------------------------------------------------


def to_one(target: str, local: str, *names: str) -> tuple[Navigation, ...]:
    """The navigation named after the foreign key `local` plus its aliases, each to the
    one `target` row the key holds."""
    return tuple(Navigation(n, target, local, "id", many=False) for n in (local, *names))


def alias_one(target: str, local: str, *names: str) -> tuple[Navigation, ...]:
    """Aliases of a to-one navigation whose own name is not the key's."""
    return tuple(Navigation(n, target, local, "id", many=False) for n in names)


def to_many(target: str, remote: str, *names: str) -> tuple[Navigation, ...]:
    """Reverse navigations: the `target` rows whose `remote` holds this row's id."""
    return tuple(Navigation(n, target, "id", remote, many=True) for n in names)


# --- "parent has key = value" resources ---------------------------------------------------


def keyed_values(name: str, long_name: str, parent: str, key: str, *,
                 parent_aliases: tuple[str, ...] = (),
                 extra: tuple[Field, ...] = ()) -> Resource:
    """Variables, tags and labels (model.md §1.16-1.28): a required parent key, a required
    Short Text key, a required Text value, one row per (parent, key). The value limits
    are rules checked by the domain layer (model.md §6.3), not column sizes."""
    return Resource(
        name,
        common() + (
            fk(parent, parent, required=True),
            short(key, required=True),
            text("value", required=True),
        ) + extra,
        to_one(parent, parent, *parent_aliases),
        synonyms=(long_name,),
        unique_together=((parent, key),),
    )


def children(name: str, long_name: str, remote: str, *aliases: str) -> tuple[Navigation, ...]:
    """A parent's navigations to a child resource under its term-form name, its long
    (fact type) name and its verb aliases (model.md §0.2: both names resolve)."""
    return to_many(name, remote, name, long_name, *aliases)
