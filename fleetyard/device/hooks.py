"""The device side's write hooks: the target-state cache's invalidation and the device
history, chained with the domain rules (`with_device_hooks`, used by `api/app.py`).

Hooks are built once for every engine; the device side of each running app listens for
the writes of its own database (`listen`), and hears of them only after they commit
(`Write.after_commit`), so a state rebuilt after the notice reads the new rows. A write
that can change one device's target state names the device; one that can change many
(fleets, releases, images, services and their variables) says "everything".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from fleetyard.device.history import DeviceHistory
from fleetyard.device.targets import DeviceTargets
from fleetyard.domain.common import chunks, within
from fleetyard.odata.hooks import Hooks, Write


class Listener(Protocol):
    async def devices_changed(self, ids: list[int], deleted: bool) -> None: ...
    async def everything_changed(self) -> None: ...


_listeners: dict[int, list[Listener]] = {}  # id(database) → the device sides serving it


def listen(db: object, listener: Listener) -> None:
    _listeners.setdefault(id(db), []).append(listener)


def unlisten(db: object, listener: Listener) -> None:
    found = _listeners.get(id(db), [])
    if listener in found:
        found.remove(listener)
    if not found:
        _listeners.pop(id(db), None)


def _notify_devices(w: Write, ids: list[int], deleted: bool = False) -> None:
    for listener in _listeners.get(id(w.engine.db), ()):
        w.after_commit(lambda listener=listener: listener.devices_changed(ids, deleted))


def _notify_everything(w: Write) -> None:
    for listener in _listeners.get(id(w.engine.db), ()):
        w.after_commit(listener.everything_changed)


# The device fields its target state shows or depends on (§3.2).
STATE_FIELDS = frozenset({
    "device_name", "uuid", "belongs_to__application", "is_pinned_on__release", "should_be_managed_by__release",
    "should_be_operated_by__release", "is_of__device_type",
})


class DeviceInvalidation(Hooks):
    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        if STATE_FIELDS.intersection(data):
            _notify_devices(w, ids)

    async def after_delete(self, w: Write, ids: list) -> None:
        _notify_devices(w, ids, deleted=True)


class DeviceRowsInvalidation(Hooks):
    """A resource under a device (its variables, service installs): the devices of the
    rows written, before and after the write."""

    _KEY = "__state_devices"

    def __init__(self, path: str):
        self.path = path  # from a device to these rows: `device_environment_variable`, …

    async def _devices(self, w: Write, ids: list) -> list[int]:
        found: list[int] = []
        for part in chunks(ids):
            lam = self.path.replace("{ids}", within("r/id", part))
            found += [row["id"] for row in await w.get(f"/device?$select=id&$filter={lam}")]
        return found

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        _notify_devices(w, await self._devices(w, [new_id]))

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        return {**data, self._KEY: await self._devices(w, ids)}

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        _notify_devices(w, sorted(set(data.get(self._KEY, [])) | set(await self._devices(w, ids))))

    async def before_delete(self, w: Write, ids: list) -> None:
        _notify_devices(w, await self._devices(w, ids))


class EverythingInvalidation(Hooks):
    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        _notify_everything(w)

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        _notify_everything(w)

    async def after_delete(self, w: Write, ids: list) -> None:
        _notify_everything(w)


class Chain(Hooks):
    """Several resources' rules in order; each `before_` hook gets what the last returned."""

    def __init__(self, *hooks: Hooks):
        self.hooks = hooks
        self.inputs = frozenset().union(*(h.inputs for h in hooks))

    async def before_post(self, w: Write, data: dict) -> dict:
        for h in self.hooks:
            data = await h.before_post(w, data)
        return data

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        for h in self.hooks:
            await h.after_post(w, new_id, data)

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        for h in self.hooks:
            data = await h.before_patch(w, ids, data)
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        for h in self.hooks:
            await h.after_patch(w, ids, data)

    async def before_delete(self, w: Write, ids: list) -> None:
        for h in self.hooks:
            await h.before_delete(w, ids)

    async def after_delete(self, w: Write, ids: list) -> None:
        for h in self.hooks:
            await h.after_delete(w, ids)

    async def nothing_to_delete(self, w: Write, keyed: bool) -> None:
        for h in self.hooks:
            await h.nothing_to_delete(w, keyed)


_EVERYTHING = (
    "application", "application_environment_variable", "application_config_variable", "service",
    "service_label", "service_environment_variable", "release", "image", "release_image", "image_label",
    "image_environment_variable",
)
_UNDER_DEVICE = {
    "device_environment_variable": "device_environment_variable/any(r:{ids})",
    "device_config_variable": "device_config_variable/any(r:{ids})",
    "service_install": "service_install/any(r:{ids})",
    "device_service_environment_variable":
        "service_install/any(si:si/device_service_environment_variable/any(r:{ids}))",
}


def device_hooks() -> dict[str, list[Hooks]]:
    """Per resource, the device side's hooks; the history's run before the domain's
    (a delete ends the open entry with the deleting actor), the cache's after."""
    hooks: dict[str, list[Hooks]] = {name: [EverythingInvalidation()] for name in _EVERYTHING}
    for name, path in _UNDER_DEVICE.items():
        hooks[name] = [DeviceRowsInvalidation(path)]
    hooks["device"] = [DeviceTargets(), DeviceInvalidation()]
    return hooks


def with_device_hooks(domain: Mapping[str, Hooks]) -> dict[str, Hooks]:
    out: dict[str, Hooks] = dict(domain)
    for name, extra in device_hooks().items():
        before = [DeviceHistory()] if name == "device" else []
        parts = before + ([domain[name]] if name in domain else []) + extra
        out[name] = parts[0] if len(parts) == 1 else Chain(*parts)
    return out


