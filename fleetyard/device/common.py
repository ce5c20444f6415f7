"""What the device side's modules share: reads as the server, SQL in either dialect's
placeholders, and the errors its routes answer with.

The device side sits beside the OData route in the HTTP stage and reads and writes
through the engine with every right once it has decided who may do what (the routes
check the caller first), so the domain rules run on every write it makes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson

from fleetyard.db.base import Database, Transaction
from fleetyard.errors import FleetyardError
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()


async def rows(engine: Engine, url: str, tx: Transaction | None = None) -> list[dict[str, Any]]:
    """The `d` of a GET with every right."""
    return orjson.loads(await engine.get(url, ALL, tx=tx))["d"]


async def find_device_id(engine: Engine, uuid: str) -> int | None:
    """The id of the device with this uuid; None when there is none."""
    found = await rows(engine, f"/device?$select=id&$filter=uuid eq {literal(uuid)}")
    return int(found[0]["id"]) if found else None


def device_type_named(name: str) -> str:
    """A $filter for the device type a slug or one of its aliases names."""
    lit = literal(name)
    return f"slug eq {lit} or device_type_alias/any(a:a/is_referenced_by__alias eq {lit})"


def literal(value: str) -> str:
    """An OData string literal for a URL (quotes doubled, percent-encoded: odata.md §2)."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


def ref(v: object) -> Any:
    """A foreign key as read (`{"__id": n}`) or written (n)."""
    return v.get("__id") if isinstance(v, dict) else v


def sql(db: Database | Transaction, text: str, dialect: str) -> str:
    """`text` written with `?` placeholders, in the dialect's own style."""
    if dialect != "postgres":
        return text
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", text)


class BadRequest(FleetyardError):
    status = 400
    code = "device.bad_request"


class EmptyBadRequest(BadRequest):
    """The reference's schema failures: 400 with an empty body (device-api.md §1, §4.1)."""

    def body(self) -> str | None:
        return None


class Unauthorized(FleetyardError):
    """401 with an empty body."""

    status = 401
    code = "device.unauthorized"

    def __init__(self, message: str = "Unauthorized"):
        super().__init__(message)

    def body(self) -> str | None:
        return None


class ApiKeyRequired(FleetyardError):
    """`authenticatedApiKey`'s 401: the JSON object `{"error":"API key required"}` (§0.2)."""

    status = 401
    code = "device.api_key_required"

    def __init__(self, message: str = "API key required"):
        super().__init__(message)

    def body(self) -> Any:
        return {"error": self.message}


class NotFound(FleetyardError):
    status = 404
    code = "device.not_found"


class Conflict(FleetyardError):
    status = 409
    code = "device.conflict"


class UuidTaken(Conflict):
    """A registration of a uuid that exists: the bare text `"uuid" must be unique.`, not
    JSON, which supervisors ≥4.2.0 and <11.4.14 match on (device-api.md §1)."""

    plain_text = True

    def __init__(self) -> None:
        super().__init__('"uuid" must be unique.')


class UnsupportedMediaType(FleetyardError):
    status = 415
    code = "device.unsupported_media_type"


class TooManyRequests(FleetyardError):
    status = 429
    code = "device.rate_limited"

    def __init__(self, retry_after: int):
        super().__init__("Too Many Requests")
        self.headers = {"Retry-After": str(retry_after), "Access-Control-Expose-Headers": "Retry-After"}
