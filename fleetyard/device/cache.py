"""The target-state cache: each device's answer, built once and served until a write
that can change it commits.

Part of the device side (DESIGN.md "Performance by design"). An entry remembers the two
generations it was built at: the device's own (its row, variables and service installs)
and everyone's (fleets, releases, images, services and their variables and labels —
rarer writes, whose reach through supervisor and host-OS fleets is wide). The write hooks
(`hooks.py`) bump them after the commit; the generations live in the backplane, so with
Redis a write on one process invalidates every process's entries. The ETag is a hash of
the body, so a rebuild that changes nothing still answers 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from fleetyard.device import state as target
from fleetyard.device.backplane import Backplane
from fleetyard.device.common import find_device_id
from fleetyard.device.settings import DeviceSettings
from fleetyard.odata.engine import Engine

CACHE_SIZE = 50_000


@dataclass
class Entry:
    generations: tuple[int, int]
    state: target.DeviceState
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # version → (body, etag)


def etag(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class StateCache:
    def __init__(self, engine: Engine, backplane: Backplane, settings: DeviceSettings):
        self.engine = engine
        self.backplane = backplane
        self.settings = settings
        self._entries: dict[str, Entry] = {}
        self._ids: dict[str, int] = {}  # uuid → device id, for the generation lookup
        self.hits = 0
        self.builds = 0

    async def entry(self, uuid: str) -> Entry | None:
        """The device's current entry, rebuilt when a write has changed it; None for no device."""
        device_id = self._ids.get(uuid)
        if device_id is None:
            # First sight: the id, so that the generations are read before the build (a
            # write during the build then makes the next call rebuild, never the reverse).
            device_id = await find_device_id(self.engine, uuid)
            if device_id is None:
                return None
            self._ids[uuid] = device_id
        generations = await self.backplane.generations(device_id)
        cached = self._entries.get(uuid)
        if cached is not None and cached.generations == generations:
            self.hits += 1
            return cached
        state = await target.load_device(self.engine, uuid, self.settings)
        self.builds += 1
        if state is None or state.id != device_id:  # gone, or a new device with its uuid
            self._entries.pop(uuid, None)
            self._ids.pop(uuid, None)
            if state is None:
                return None
            return Entry(generations, state)  # served once, not kept: its generations are another's
        if len(self._entries) >= CACHE_SIZE:
            self._entries.clear()
            self._ids.clear()
            self._ids[uuid] = device_id
        fresh = self._entries[uuid] = Entry(generations, state)
        return fresh

    def body(self, entry: Entry, version: str, shape: Callable[[target.DeviceState], Any]) -> tuple[bytes, str]:
        """The answer of one version for an entry, shaped once per entry."""
        hit = entry.bodies.get(version)
        if hit is None:
            data = orjson.dumps(shape(entry.state))
            hit = entry.bodies[version] = (data, etag(data))
        return hit
