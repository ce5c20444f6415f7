"""Business rules as hooks around the engine's writes.

A resource's `Hooks` run inside the write's own transaction, with the ids of the rows the
write touches: before (to check, fill in or refuse the body) and after (to keep other
rows in step). They read and write through `Write`, which runs OData requests in that
same transaction with every right, so a rule's own changes commit or roll back with the
write. The engine knows no rule; the server's `domain/` package supplies them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import orjson

from fleetyard.db.base import Transaction
from fleetyard.model.schema import Resource
from fleetyard.odata.permissions import Permissions

if TYPE_CHECKING:
    from fleetyard.odata.engine import Engine

_ALL = Permissions.all()

# What to do once the outermost transaction of the current write has committed (caches
# to drop, notices to send): collected by `committing()`, run only on success.
_AFTER_COMMIT: ContextVar[list[Callable[[], object]] | None] = ContextVar("fleetyard_after_commit", default=None)


@contextmanager
def committing() -> Iterator[list[Callable[[], object]]]:
    """Collect `after_commit` callbacks for a transaction about to open; the caller runs
    them once it has committed, awaiting what they return when it is awaitable (the
    engine does, for the transactions it opens). A
    transaction inside another one's scope leaves the collecting to the outer one."""
    if _AFTER_COMMIT.get() is not None:
        yield []
        return
    callbacks: list[Callable[[], object]] = []
    token = _AFTER_COMMIT.set(callbacks)
    try:
        yield callbacks
    finally:
        _AFTER_COMMIT.reset(token)


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current write has committed. Outside of a collecting
    write it runs at once (an awaitable it returns then runs as a task of its own)."""
    pending = _AFTER_COMMIT.get()
    if pending is not None:
        pending.append(callback)
        return
    done = callback()
    if inspect.isawaitable(done):
        asyncio.ensure_future(done)


@dataclass
class Write:
    """One write in progress: what a hook may look at and act through."""

    engine: "Engine"
    tx: Transaction
    resource: Resource
    method: str  # POST | PATCH | PUT | DELETE
    permissions: Permissions  # the caller's
    context: Mapping[str, Any]  # the caller's context values (`__ACTOR_ID`, …)

    async def get(self, url: str) -> Any:
        """The `d` of a GET, inside the transaction, with every right."""
        return orjson.loads(await self.engine.get(url, _ALL, self.context, tx=self.tx))["d"]

    async def post(self, url: str, body: dict) -> dict:
        return await self.engine.post(url, body, _ALL, self.context, tx=self.tx)

    async def patch(self, url: str, body: dict) -> int:
        return await self.engine.patch(url, body, _ALL, self.context, tx=self.tx)

    async def delete(self, url: str) -> int:
        return await self.engine.delete(url, _ALL, self.context, tx=self.tx)

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` once this write's transaction has committed (never if it rolls
        back): what others may read only after the commit, such as a dropped cache."""
        after_commit(callback)


class Hooks:
    """The rules of one resource. Every method is optional; the defaults change nothing.

    `data` is the request body (keys the model does not know included, so a rule may
    read a convenience key such as v6's `device_type`); what a `before_` hook returns is
    what gets written.
    """

    # Body keys that are no writable field but that the rules consume (release `is_final`
    # and `semver`): a PATCH that holds only these still reaches the hooks.
    inputs: frozenset[str] = frozenset()
    # Fields the rules fill in themselves (an actor row, a slug): a PUT that leaves them
    # out keeps them, where it resets every other field it leaves out.
    owned: frozenset[str] = frozenset()

    async def before_post(self, w: Write, data: dict) -> dict:
        return data

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        return None

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        return None

    async def before_delete(self, w: Write, ids: list) -> None:
        return None

    async def after_delete(self, w: Write, ids: list) -> None:
        return None

    async def nothing_to_delete(self, w: Write, keyed: bool) -> None:
        """A DELETE addressed no row (`keyed`: by key rather than $filter); raise to
        answer something other than the usual 200 (model.md §2.3: a fleet by key, 404)."""
        return None
