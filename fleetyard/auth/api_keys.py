"""API keys: random strings shown once, stored as their SHA-256 hash, with their role.

Part of `auth/` (DESIGN.md "Stack"). A key is 32 letters and digits, like the reference's;
the `api_key.key` column holds the hex SHA-256 of it, so a copy of the database lends no
access, and the field is `readable=False` besides (spec/model.md §1.14). Keys have no dot,
which tells them apart from a JWT in a Bearer header (`tokens.looks_like_jwt`).

Each key gets the role row of spec/device-api.md §0.3 (`api_key__has__role`): a user's key
is a `named-user-api-key`, a fleet's a `provisioning-api-key`, a device's a
`device-api-key`. What a key may do follows from its actor, and a key's role always
matches its actor (the key routes refuse any other pairing); deleting a key deletes its
role and permission rows (`auth/hooks.py`).
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime

from fleetyard.auth.rows import ALL, ensure_named, insert, rows
from fleetyard.db.base import Transaction
from fleetyard.odata.engine import Engine

KEY_LENGTH = 32
_ALPHABET = string.ascii_letters + string.digits

NAMED_USER, PROVISIONING, DEVICE = "named-user-api-key", "provisioning-api-key", "device-api-key"
ROLE_OF = {"user": NAMED_USER, "application": PROVISIONING, "device": DEVICE}  # by actor type
ROLES = tuple(ROLE_OF.values())


def generate() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


def digest(key: str) -> str:
    """What the database keeps of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


async def actor_type(engine: Engine, actor: int, tx: Transaction | None = None) -> str | None:
    """'user', 'application' or 'device': what the actor is; None for nothing."""
    found = await rows(engine, f"/actor({int(actor)})?$select=id&$expand=is_of__user($select=id),"
                               "is_of__application($select=id),is_of__device($select=id)", tx)
    if found:
        for kind, nav in (("user", "is_of__user"), ("application", "is_of__application"), ("device", "is_of__device")):
            if found[0][nav]:
                return kind
    return None


async def create(engine: Engine, actor: int, *, name: str | None = None, description: str | None = None,
                 expiry: datetime | None = None, key: str | None = None, role: str | None = None,
                 tx: Transaction | None = None) -> str:
    """A new key of `actor` with its role (the actor's kind's when not given); the key
    itself, which nothing can show again."""
    if tx is None:
        async with engine.db.transaction() as own:
            return await create(engine, actor, name=name, description=description, expiry=expiry,
                                key=key, role=role, tx=own)
    key = key if key is not None else generate()
    body: dict[str, object] = {"key": digest(key), "is_of__actor": actor, "name": name,
                               "description": description}
    if expiry is not None:
        body["expiry_date"] = expiry.isoformat()
    new = (await engine.post("/api_key?returnResource=false", body, ALL, tx=tx))["id"]
    if role is None:
        kind = await actor_type(engine, actor, tx)
        role = ROLE_OF.get(kind) if kind is not None else None
    if role is not None:
        await insert(engine, "api_key__has__role", {
            "api_key": new, "role": await ensure_named(engine, "role", role, tx)}, tx)
    return key
