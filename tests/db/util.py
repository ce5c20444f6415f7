"""Helpers for tests that run the same statements on both databases."""

from __future__ import annotations

import datetime as dt
import re

from fleetyard.db import Database
from fleetyard.db.migrations import migrate
from tests.db.aviation import MODEL


def sql(db: Database, text: str) -> str:
    """`?` placeholders as the database wants them ($1..$n on PostgreSQL)."""
    if db.dialect == "sqlite":
        return text
    counter = iter(range(1, 1000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", text)


def date_param(db: Database, value: dt.datetime) -> object:
    """A date as each database stores it: ISO text with milliseconds and Z, or a datetime."""
    if db.dialect == "postgres":
        return value
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


async def with_aviation(db: Database) -> Database:
    """`db` with the pilots/planes/licences tables created."""
    await migrate(db, MODEL)
    return db
