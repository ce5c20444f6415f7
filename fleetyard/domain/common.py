"""What the domain rules share: their errors, body values in canonical form, URL pieces,
and the ways a rule writes (as the server, or as the caller).

The domain stage sits beside the engine's writes (`odata/hooks.py`): every rule reads and
writes through OData requests in the write's own transaction, so a refusal anywhere rolls
the whole write back (DESIGN.md "The pipeline").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fleetyard.errors import FleetyardError
from fleetyard.model.schema import Resource
from fleetyard.odata.hooks import Write
from fleetyard.odata.values import check, iso


class RuleViolation(FleetyardError):
    """A business rule refused the write: 400 with the rule's own words (model.md §6)."""

    status = 400
    code = "domain.rule"


class NotVisible(FleetyardError):
    """A row the write names does not exist for this caller: 404 (model.md §6.3)."""

    status = 404
    code = "domain.not_found"


class Forbidden(FleetyardError):
    """A write the rules never allow for this row: 403 (model.md §4.8)."""

    status = 403
    code = "domain.forbidden"


# A context key only the rules set: the write is the server's own (a revision, a slug),
# so fields clients may not write get through. Clients never choose their context.
SERVER = "__FLEETYARD_RULES"


def as_server(w: Write) -> Write:
    """The same write, marked as the rules' own."""
    return dataclasses.replace(w, context={**w.context, SERVER: True})


def by_server(w: Write) -> bool:
    return bool(w.context.get(SERVER))


async def delete_as_caller(w: Write, url: str) -> int:
    """A delete with the caller's rights (the reference cascades that way, model.md §2.3):
    rows the caller may not delete stay, and their references then refuse the write."""
    return await w.engine.delete(url, w.permissions, w.context, tx=w.tx)


async def get_as_caller(w: Write, url: str) -> Any:
    import orjson

    return orjson.loads(await w.engine.get(url, w.permissions, w.context, tx=w.tx))["d"]


# --- values --------------------------------------------------------------------------------


def value(r: Resource, name: str, v: object) -> Any:
    """A body value as the engine will store it (`"true"` → True, `"42"` → 42); None stays."""
    f = r.field(name)
    if v is None or f is None:
        return v
    return check(name, f.type, v)


def ref(v: object) -> Any:
    """A foreign key as read back (`{"__id": n}`) or as written (n)."""
    return v.get("__id") if isinstance(v, dict) else v


def now() -> str:
    return iso(datetime.now(UTC))


# --- URL pieces ----------------------------------------------------------------------------


def text(s: str) -> str:
    """A string literal for a $filter: percent-encoded (literals are decoded after
    un-quoting, odata.md §2), apostrophes doubled."""
    return "'" + quote(s, safe="").replace("%27", "''") + "'"


def within(name: str, ids: Iterable[object]) -> str:
    """`name in (1,2,3)`."""
    return f"{name} in ({','.join(str(int(i)) for i in ids)})"  # type: ignore[call-overload]


def chunks(ids: list, size: int = 500) -> Iterator[list]:
    """Ids in groups one statement takes comfortably (a fleet may have 10,000 devices)."""
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
