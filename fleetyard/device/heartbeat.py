"""API heartbeats: `device.api_heartbeat_state` from the device's own state fetches
(spec/device-api.md §5, model.md §4.4).

Part of the device side. A state GET with the device's key marks it `online` and sets
its deadline to 1.5 × its poll interval from now; a device past its deadline becomes
`timeout`, and `offline` a grace period later; the next fetch brings it back. The
deadlines live in the backplane (memory, or Redis shared by several processes); the
database is written only when the state changes, each write guarded by
`api_heartbeat_state <> new` so an unchanged value is never rewritten. After writing,
the backplane is read again: if a fetch or an expiry elsewhere moved the device on
meanwhile, its newer state is written too, so the database ends where the backplane is.
One process (the lease holder) runs the expiry loop.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from fleetyard.db.base import Database
from fleetyard.device.backplane import OFFLINE, ONLINE, TIMEOUT, Backplane, now_ms
from fleetyard.device.common import sql
from fleetyard.device.settings import DeviceSettings
from fleetyard.odata.values import to_db

log = logging.getLogger("fleetyard.device")

LEASE_MS = 3000  # a stopped expirer is replaced within this


class Heartbeats:
    def __init__(self, db: Database, backplane: Backplane, settings: DeviceSettings):
        self.db = db
        self.backplane = backplane
        self.settings = settings
        self.writes = 0  # database writes made, for tests and benchmarks
        self._task: asyncio.Task[None] | None = None
        self._update = sql(db, "UPDATE device SET api_heartbeat_state = ?, changed_api_heartbeat_state_on__date = ? "
                               "WHERE id = ? AND api_heartbeat_state <> ?", db.dialect)

    # --- a fetch ------------------------------------------------------------------------

    async def seen(self, device_id: int, poll_interval_ms: int) -> None:
        """The device fetched its target state with its own key."""
        if not self.settings.heartbeat_enabled:
            return
        deadline = now_ms() + self.settings.timeout_after_ms(poll_interval_ms)
        previous = await self.backplane.poll(device_id, deadline)
        if previous != ONLINE:
            await self._write(device_id, ONLINE)

    async def forget(self, device_id: int) -> None:
        await self.backplane.forget(device_id)

    async def _write(self, device_id: int, state: str) -> None:
        changed = await self._set(device_id, state)
        now_state = await self.backplane.heartbeat(device_id)
        settled = OFFLINE if now_state is None else now_state
        if changed and settled != state and not (state == OFFLINE and now_state is None):
            await self._set(device_id, settled)  # moved on meanwhile: end where the backplane is

    async def _set(self, device_id: int, state: str) -> bool:
        at = to_db(self.db.dialect, "Date Time", datetime.now(UTC))
        async with self.db.transaction() as tx:
            n = await tx.execute(self._update, [state, at, device_id, state])
        if n:
            self.writes += 1
        return bool(n)

    # --- the expiry loop ----------------------------------------------------------------

    def start(self) -> None:
        if self.settings.heartbeat_enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="fleetyard-heartbeat-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _tick_seconds(self) -> float:
        """Often enough for the shortest transition to land close to its time."""
        shortest = min(self.settings.heartbeat_grace_ms, self.settings.min_poll_interval_ms)
        return max(0.02, min(1.0, shortest / 10_000))

    async def _run(self) -> None:
        adopted = leading = False
        while True:
            try:
                if await self.backplane.lead(LEASE_MS):
                    if not leading:
                        log.info("heartbeat expiry: this process expires devices")
                        leading = True
                    if not adopted:
                        await self.adopt()
                        adopted = True
                    await self.expire_due()
                else:
                    leading = False
            except asyncio.CancelledError:
                raise
            except Exception:  # a database or Redis hiccup: try again on the next tick
                log.exception("heartbeat expiry failed")
            await asyncio.sleep(self._tick_seconds())

    async def adopt(self) -> None:
        """Devices the database says are online or timed out but nobody tracks (a first
        start, a restart without Redis): give them a full deadline from now."""
        rows = await self.db.fetch_all(
            "SELECT id, api_heartbeat_state FROM device WHERE api_heartbeat_state IN ('online', 'timeout')")
        now = now_ms()
        for device_id, state in rows:
            wait = (self.settings.timeout_after_ms(self.settings.min_poll_interval_ms) if state == ONLINE
                    else self.settings.heartbeat_grace_ms)
            await self.backplane.adopt(int(device_id), str(state), now + wait)  # type: ignore[call-overload]

    async def expire_due(self) -> int:
        """Move every device past its deadline on; how many moved."""
        moved = 0
        while True:
            moves = await self.backplane.expire(now_ms(), self.settings.heartbeat_grace_ms)
            for device_id, state in moves:
                assert state in (TIMEOUT, OFFLINE)
                await self._write(device_id, state)
            moved += len(moves)
            if len(moves) < 500:
                return moved
