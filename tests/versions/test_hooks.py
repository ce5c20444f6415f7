"""The canonical rules behind a version's engine: every hook method of `Hooks` reaches the
rules with a `Write` naming the canonical resource, whatever the version calls it."""

from __future__ import annotations

import inspect

from fleetyard.model.balena import MODEL
from fleetyard.odata.hooks import Hooks, Write
from fleetyard.odata.permissions import Permissions
from fleetyard.versions import v6
from fleetyard.versions.service import CanonicalHooks

HOOK_METHODS = [name for name, f in inspect.getmembers(Hooks, inspect.iscoroutinefunction)
                if not name.startswith("_")]


class Recorder(Hooks):
    inputs = frozenset({"is_final"})

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def __getattribute__(self, name: str):
        if name in HOOK_METHODS:
            async def record(w: Write, *args: object) -> object:
                object.__getattribute__(self, "seen").append((name, w.resource))
                return args[-1] if name.startswith("before_p") else None

            return record
        return object.__getattribute__(self, name)


async def test_every_hook_method_sees_the_canonical_resource():
    assert {"before_post", "before_patch", "after_delete", "nothing_to_delete"} <= set(HOOK_METHODS)
    inner = Recorder()
    hooks = CanonicalHooks(inner, MODEL.resource("release"))
    w = Write(None, None, v6.model().resource("release"), "PATCH", Permissions.all(), {})  # type: ignore[arg-type]
    for name in HOOK_METHODS:
        params = list(inspect.signature(getattr(Hooks, name)).parameters)[2:]
        await getattr(hooks, name)(w, *([{}] * len(params)))
    assert [name for name, _ in inner.seen] == HOOK_METHODS
    assert all(r is MODEL.resource("release") for _, r in inner.seen)
    assert hooks.inputs == frozenset({"is_final"})
