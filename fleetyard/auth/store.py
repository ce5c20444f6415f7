"""The auth package's own statements: lookups of secrets the API never shows.

Part of `auth/`, beside the engine rather than through it: password hashes, users' token
secrets and API-key hashes are `readable=False` fields, which the engine neither returns
nor filters on (spec/model.md §8.4), so the credential checks read them here with plain
SQL through `db/`. Writes still go through the engine (`users.py`, `api_keys.py`), where
the domain rules run. The server's own settings (the JWT signing secret) live in the
table `fleetyard_setting`, outside the OData model: no rule set can ever read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fleetyard.db.base import Database
from fleetyard.model.ddl import SQLITE_NOW

SETTINGS_TABLE = "fleetyard_setting"

_CREATE_SETTINGS = {
    "postgres": f"CREATE TABLE IF NOT EXISTS {SETTINGS_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "sqlite": f"CREATE TABLE IF NOT EXISTS {SETTINGS_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
}


def sql(db: Database, text: str) -> str:
    """`text` written with `?` placeholders, in the database's own placeholder style."""
    if db.dialect != "postgres":
        return text
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", text)


# --- settings ----------------------------------------------------------------------------


async def setting(db: Database, name: str, make: Callable[[], str]) -> str:
    """The setting `name`, created with `make()` the first time. Several processes may
    start together: the first insert wins and everyone reads the winner back."""
    async with db.transaction() as tx:
        await tx.execute(_CREATE_SETTINGS[db.dialect])
        await tx.execute(sql(db, f"INSERT INTO {SETTINGS_TABLE} (name, value) VALUES (?, ?) "
                                 "ON CONFLICT (name) DO NOTHING"), [name, make()])
        value = await tx.fetch_value(sql(db, f"SELECT value FROM {SETTINGS_TABLE} WHERE name = ?"), [name])
    assert isinstance(value, str)
    return value


# --- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    id: int
    actor: int
    username: str
    email: str | None
    password: str | None  # the argon2id hash
    jwt_secret: str | None
    superuser: bool


SUPERUSER_ROLE = "superuser"


def _select_user(db: Database, where: str) -> str:
    """A user's row and whether a current `superuser` role is theirs (`user__has__role`)."""
    now = "CURRENT_TIMESTAMP" if db.dialect == "postgres" else SQLITE_NOW
    return sql(db, (
        "SELECT u.id, u.actor, u.username, u.email, u.password, u.jwt_secret, "
        'EXISTS (SELECT 1 FROM user_role ur JOIN "role" r ON r.id = ur."role" '
        f"WHERE ur.\"user\" = u.id AND r.name = '{SUPERUSER_ROLE}' "
        f"AND (ur.expiry_date IS NULL OR ur.expiry_date > {now})) "
        f'FROM "user" u WHERE {where} ORDER BY u.id'
    ))


def _user(rows: Sequence[Sequence[object]]) -> UserRow | None:
    if not rows:
        return None
    uid, actor, username, email, password, secret, superuser = rows[0]
    return UserRow(int(uid), int(actor), str(username), email, password, secret, bool(superuser))  # type: ignore[call-overload,arg-type]


async def user_by_id(db: Database, user_id: int) -> UserRow | None:
    return _user(await db.fetch_all(_select_user(db, "u.id = ?"), [user_id]))


async def user_by_actor(db: Database, actor: int) -> UserRow | None:
    return _user(await db.fetch_all(_select_user(db, "u.actor = ?"), [actor]))


async def user_by_login(db: Database, login: str) -> UserRow | None:
    """The user a login names: an e-mail address when it holds `@`, else a username;
    either compared case-insensitively (spec/device-api.md §11)."""
    column = "email" if "@" in login else "username"
    return _user(await db.fetch_all(_select_user(db, f"lower(u.{column}) = lower(?)"), [login]))


async def user_by_name(db: Database, username: str) -> UserRow | None:
    return _user(await db.fetch_all(_select_user(db, "u.username = ?"), [username]))


async def count_users(db: Database) -> int:
    return int(await db.fetch_value('SELECT count(*) FROM "user"'))  # type: ignore[call-overload]


# --- API keys ----------------------------------------------------------------------------


async def key_actor(db: Database, key_hash: str) -> int | None:
    """The actor of the unexpired API key with this hash."""
    rows = await db.fetch_all(sql(db, "SELECT is_of__actor, expiry_date FROM api_key WHERE key = ?"), [key_hash])
    if not rows:
        return None
    actor, expiry = rows[0]
    if expiry is not None and _as_datetime(expiry) <= datetime.now(UTC):
        return None  # an expired key is no key (spec/device-api.md §0.1)
    return int(actor)  # type: ignore[call-overload]


async def application_by_actor(db: Database, actor: int) -> tuple[int, str] | None:
    rows = await db.fetch_all(sql(db, "SELECT id, slug FROM application WHERE actor = ?"), [actor])
    return (int(rows[0][0]), str(rows[0][1])) if rows else None  # type: ignore[call-overload]


async def device_by_actor(db: Database, actor: int) -> tuple[int, str] | None:
    rows = await db.fetch_all(sql(db, "SELECT id, uuid FROM device WHERE actor = ?"), [actor])
    return (int(rows[0][0]), str(rows[0][1])) if rows else None  # type: ignore[call-overload]


def _as_datetime(value: object) -> datetime:
    """A stored date: a datetime from PostgreSQL, ISO-8601 text ending in Z from SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
