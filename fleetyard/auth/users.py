"""Accounts: a user is an actor, a user row and a personal organization they administer.

Part of `auth/`. Every row is written through the engine with every right, in one
transaction, so the domain layer's rules run and a failure leaves nothing behind. The
personal organization's handle is the username (spec/model.md §5.2, the reference's
`createSuperuser`), which is why usernames follow the handle rule: letters, digits and
underscores, kept lower-case (model.md §6.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetyard.auth import passwords, tokens
from fleetyard.auth.api_keys import ROLES as KEY_ROLES
from fleetyard.auth.permissions import ADMINISTRATOR, FLEET_ROLES, ORGANIZATION_ROLES
from fleetyard.auth.rows import ensure_named, insert, literal, rows
from fleetyard.auth.store import SUPERUSER_ROLE
from fleetyard.db.base import Transaction
from fleetyard.errors import FleetyardError
from fleetyard.odata.engine import Engine

_USERNAME = re.compile(r"[a-z0-9_]{1,100}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class AccountError(FleetyardError):
    status = 400
    code = "auth.account"


class AccountConflict(FleetyardError):
    """The reference's wording (model.md §6.3): a 409."""

    status = 409
    code = "auth.account_taken"


class NoSuchAccount(FleetyardError):
    status = 404
    code = "auth.no_such_account"


@dataclass(frozen=True)
class NewUser:
    id: int
    actor: int
    organization: int


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError("Usernames can only contain alphanumeric characters and underscores")
    return name


async def create_user(engine: Engine, username: str, password: str, *, email: str | None = None,
                      superuser: bool = False, tx: Transaction | None = None) -> NewUser:
    """A new user with their actor, personal organization and administrator membership."""
    name = normalise_username(username)
    if email is not None and not _EMAIL.fullmatch(email):
        raise AccountError(f"Invalid email address: {email}")
    try:
        passwords.check_strength(password)
    except passwords.WeakPassword as e:
        raise AccountError(str(e)) from None
    password_hash = await passwords.hash_async(password)
    if tx is None:
        async with engine.db.transaction() as own:
            return await _create(engine, own, name, password_hash, email, superuser)
    return await _create(engine, tx, name, password_hash, email, superuser)


async def _create(engine: Engine, tx: Transaction, name: str, password_hash: str,
                  email: str | None, superuser: bool) -> NewUser:
    if await rows(engine, f"/user?$select=id&$filter=tolower(username) eq {literal(name)}", tx):
        raise AccountConflict("This username is already taken")
    if await rows(engine, f"/organization?$select=id&$filter=handle eq {literal(name)}", tx):
        raise AccountConflict("This username is already taken")  # someone's organization
    if email is not None and await rows(
            engine, f"/user?$select=id&$filter=tolower(email) eq {literal(email.lower())}", tx):
        raise AccountConflict("This email is already taken")
    actor = await insert(engine, "actor", {}, tx)
    user = await insert(engine, "user", {
        "actor": actor, "username": name, "email": email, "password": password_hash,
        "jwt_secret": tokens.new_user_secret(),
    }, tx)
    organization = await insert(engine, "organization", {"name": name, "handle": name}, tx)
    await add_member(engine, user, organization, ADMINISTRATOR, tx)
    if superuser:
        role = await ensure_named(engine, "role", SUPERUSER_ROLE, tx)
        await insert(engine, "user_role", {"user": user, "role": role}, tx)
    return NewUser(user, actor, organization)


async def add_member(engine: Engine, user: int, organization: int, role: str, tx: Transaction) -> int:
    role_id = await ensure_named(engine, "organization_membership_role", role, tx)
    return await insert(engine, "organization_membership", {
        "user": user, "is_member_of__organization": organization, "organization_membership_role": role_id,
    }, tx)


async def create_organization(engine: Engine, handle: str, owner: str, *, name: str | None = None,
                              tx: Transaction | None = None) -> int:
    """A new organization administered by the user `owner`; its id."""
    if tx is None:
        async with engine.db.transaction() as own:
            return await create_organization(engine, handle, owner, name=name, tx=own)
    if not re.fullmatch(r"[a-z0-9_]+", handle):
        raise AccountError("Handles can only contain lowercase alphanumeric characters and underscores")
    user = await user_id(engine, owner, tx)
    if await rows(engine, f"/organization?$select=id&$filter=handle eq {literal(handle)}", tx):
        raise AccountConflict('"handle" must be unique.')
    organization = await insert(engine, "organization", {"name": name or handle, "handle": handle}, tx)
    await add_member(engine, user, organization, ADMINISTRATOR, tx)
    return organization


async def user_id(engine: Engine, username: str, tx: Transaction | None = None) -> int:
    found = await rows(engine, f"/user?$select=id&$filter=username eq {literal(username.lower())}", tx)
    if not found:
        raise NoSuchAccount(f"No user named {username!r}")
    return int(found[0]["id"])


async def user_actor(engine: Engine, username: str, tx: Transaction | None = None) -> int:
    found = await rows(engine, f"/user?$select=actor&$filter=username eq {literal(username.lower())}", tx)
    if not found:
        raise NoSuchAccount(f"No user named {username!r}")
    return int(found[0]["actor"]["__id"])


async def ensure_roles(engine: Engine) -> None:
    """The role rows every database holds (decisions.md: organization and fleet roles;
    device-api.md §0.3: the keys' roles)."""
    async with engine.db.transaction() as tx:
        for role in ORGANIZATION_ROLES:
            await ensure_named(engine, "organization_membership_role", role, tx)
        for role in FLEET_ROLES:
            await ensure_named(engine, "application_membership_role", role, tx)
        for role in KEY_ROLES:
            await ensure_named(engine, "role", role, tx)
