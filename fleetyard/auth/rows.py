"""Small helpers for writing the auth rows through the engine, with every right.

Part of `auth/`: `users.py` and `api_keys.py` create rows through the engine (so the
domain layer's rules run) inside one transaction they pass along as `tx`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from fleetyard.db.base import Transaction
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()


def literal(value: str) -> str:
    """An OData string literal for a URL: quotes doubled, the rest percent-encoded (the
    parser decodes a literal after un-quoting it, spec/odata.md §2)."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


async def rows(engine: Engine, url: str, tx: Transaction | None = None) -> list[dict[str, Any]]:
    return orjson.loads(await engine.get(url, ALL, tx=tx))["d"]


async def insert(engine: Engine, resource: str, body: dict[str, object], tx: Transaction) -> int:
    """A new row's id."""
    row = await engine.post(f"/{resource}?returnResource=false", body, ALL, tx=tx)
    return int(row["id"])


async def ensure_named(engine: Engine, resource: str, name: str, tx: Transaction) -> int:
    """The id of the row of `resource` whose unique `name` is `name`, created if missing
    (the role rows: `role`, `organization_membership_role`, …)."""
    found = await rows(engine, f"/{resource}?$select=id&$filter=name eq {literal(name)}", tx)
    if found:
        return int(found[0]["id"])
    return await insert(engine, resource, {"name": name}, tx)
