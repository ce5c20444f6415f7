"""Device registration with a provisioning key, and the key exchange a supervisor makes
afterwards (spec/device-api.md §1, §2).

Part of the device side. The device row is created with the caller's rights, so a fleet's
provisioning key registers devices into its own fleet only (the engine refuses the rest
with a 401); its API key is made in the same transaction. The uuid and key conflicts are
checked first, as the reference does, with its exact answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fleetyard.auth import api_keys
from fleetyard.auth.principals import Principal
from fleetyard.db.base import Transaction
from fleetyard.device.common import (
    ALL,
    BadRequest,
    Conflict,
    EmptyBadRequest,
    NotFound,
    UuidTaken,
    device_type_named,
    find_device_id,
    rows,
    sql,
)
from fleetyard.domain.devices import UUID, UUID_MESSAGE
from fleetyard.odata.engine import Engine
from fleetyard.odata.hooks import committing
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.values import parse_datetime

STRINGS = ("device_type", "uuid", "api_key", "supervisor_version", "os_version", "os_variant", "mac_address")


def _integer(value: object, message: str) -> int:
    if isinstance(value, bool):
        raise BadRequest(message)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise BadRequest(message)


def registration(body: object) -> dict[str, Any]:
    """The body's fields, checked as the reference's schema does."""
    if not isinstance(body, dict):
        raise EmptyBadRequest("the body must be a JSON object")
    for name in STRINGS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise EmptyBadRequest(f"{name} must be a string")
    if body.get("user") is not None:
        _integer(body["user"], "User ID must be a valid integer")  # checked, then ignored
    if body.get("application") is None:
        raise BadRequest("Application ID must be a valid integer")
    fleet = _integer(body["application"], "Application ID must be a valid integer")
    if not body.get("device_type"):
        raise BadRequest("Device type must be specified")
    if not body.get("uuid"):
        raise BadRequest("UUID must be specified")
    if not UUID.match(body["uuid"]):
        raise BadRequest(UUID_MESSAGE)
    out = {k: body[k] for k in STRINGS if body.get(k) is not None}
    out["application"] = fleet
    if out.get("os_variant") not in (None, "prod", "dev"):
        del out["os_variant"]
    return out


async def device_type_id(engine: Engine, slug: str) -> int:
    """A device type by slug or alias; 404 as the reference words it."""
    found = await rows(engine, f"/device_type?$select=id&$filter={device_type_named(slug)}")
    if not found:
        raise NotFound(f"Unknown device type {slug}")
    return int(found[0]["id"])


async def _key_exists(engine: Engine, key: str) -> bool:
    q = sql(engine.db, "SELECT 1 FROM api_key WHERE key = ?", engine.dialect)
    return await engine.db.fetch_value(q, [api_keys.digest(key)]) is not None


async def register(engine: Engine, permissions: Permissions, context: dict[str, Any], body: object) -> dict[str, Any]:
    fields = registration(body)
    kind = await device_type_id(engine, fields["device_type"])
    if await find_device_id(engine, fields["uuid"]) is not None:
        raise UuidTaken()
    key = fields.get("api_key") or api_keys.generate()
    if await _key_exists(engine, key):
        raise Conflict('"key" must be unique.')
    device: dict[str, Any] = {"uuid": fields["uuid"], "belongs_to__application": fields["application"],
                              "is_of__device_type": kind}
    for name in ("supervisor_version", "os_version", "os_variant", "mac_address"):
        if name in fields:
            device[name] = fields[name]
    with committing() as callbacks:
        async with engine.db.transaction() as tx:
            created = await engine.post("/device?returnResource=false", device, permissions, context, tx=tx)
            (row,) = await rows(engine, f"/device({int(created['id'])})?$select=id,actor", tx)
            await api_keys.create(engine, int(row["actor"]["__id"]), key=key, tx=tx)
    await _run(callbacks)
    return {"id": row["id"], "uuid": fields["uuid"], "api_key": key}


async def _run(callbacks: list) -> None:
    import inspect

    for callback in callbacks:
        done = callback()
        if inspect.isawaitable(done):
            await done


# --- POST /api-key/device/:id/device-key -------------------------------------------------


async def device_key(engine: Engine, permissions: Permissions, context: dict[str, Any],
                     principal: Principal, device_id: int, body: object) -> str:
    """A new key for a device the caller may read and update (the device itself, or a
    user of its fleet); `apiKey` chooses the key. The device's own key again is no error."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise EmptyBadRequest("the body must be a JSON object")
    for name in ("apiKey", "name", "description"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise EmptyBadRequest(f"{name} must be a string")
    expiry: datetime | None = None
    if body.get("expiryDate") is not None:
        expiry = parse_datetime(str(body["expiryDate"]))
        if expiry is None:
            raise BadRequest("Key expiry date should be a valid date")
    import orjson

    visible = orjson.loads(await engine.get(f"/device({device_id})?$select=id,actor", permissions, context))["d"]
    if not visible:
        raise NotFound("No device found to associate with the api key")
    actor = int(visible[0]["actor"]["__id"])
    if not (principal.actor_type == "device" and principal.type_id == device_id) and not principal.is_user:
        raise Forbidden("not allowed to create a key for this device")
    if principal.is_user and not await _may_update(engine, permissions, context, device_id):
        raise Forbidden("not allowed to create a key for this device")
    key = body.get("apiKey") or api_keys.generate()
    if await _key_exists(engine, key):
        q = sql(engine.db, "SELECT is_of__actor FROM api_key WHERE key = ?", engine.dialect)
        if await engine.db.fetch_value(q, [api_keys.digest(key)]) == actor:
            return key
        raise Conflict('"key" must be unique.')
    async with engine.db.transaction() as tx:
        await _new_key(engine, actor, key, body, expiry, tx)
    return key


async def _may_update(engine: Engine, permissions: Permissions, context: dict[str, Any], device_id: int) -> bool:
    """Whether the caller holds `create-device-api-key` on the device (device-api.md §2):
    the rule of `auth/permissions.py` `ACTIONS` (users: operators of its fleet)."""
    if permissions.everything:
        return True
    import orjson

    from fleetyard.auth.permissions import action

    rule = action("device-api-key")
    found = orjson.loads(await engine.get(f"/device({device_id})?$select=id", rule, context))["d"]
    return bool(found)


async def _new_key(engine: Engine, actor: int, key: str, body: dict, expiry: datetime | None,
                   tx: Transaction) -> None:
    await api_keys.create(engine, actor, key=key, name=body.get("name"), description=body.get("description"),
                          expiry=expiry, tx=tx)


class Forbidden(BadRequest):
    """403 with an empty body (device-api.md §2: no `create-device-api-key`)."""

    status = 403
    code = "device.forbidden"

    def body(self) -> str | None:
        return None


__all__ = ["ALL", "device_key", "register", "registration"]
