"""The device side: what balenaOS devices and the VPN service call, beside the OData API.

register (provisioning and key exchange) · state (target state) · cache (its cache and
ETags) · report (current-state reports) · heartbeat (online/timeout/offline) · cloudlink
(VPN connects) · logs · history (device_history) · hooks (the write hooks that keep the
cache and the history true) · backplane (what several server processes share, through
Redis). Facts: spec/device-api.md, spec/model.md §4 and §7. `DeviceSide` is one running
server's device side; `api/device_routes.py` is its HTTP face.
"""

from __future__ import annotations

import logging

from fleetyard.device.backplane import Backplane, Memory, Redis
from fleetyard.device.cache import StateCache
from fleetyard.device.heartbeat import Heartbeats
from fleetyard.device.hooks import listen, unlisten
from fleetyard.device.logs import RateLimiter
from fleetyard.device.report import Reports
from fleetyard.device.settings import DeviceSettings
from fleetyard.odata.engine import Engine

log = logging.getLogger("fleetyard.device")


class DeviceSide:
    def __init__(self, engine: Engine, settings: DeviceSettings, backplane: Backplane | None = None):
        self.engine = engine
        self.settings = settings
        if backplane is None:
            backplane = Redis(settings.redis_url, settings.redis_prefix) if settings.redis_url else Memory()
        self.backplane = backplane
        self.cache = StateCache(engine, backplane, settings)
        self.heartbeats = Heartbeats(engine.db, backplane, settings)
        self.reports = Reports(engine)
        self.log_limiter = RateLimiter()

    async def start(self) -> None:
        listen(self.engine.db, self)
        self.heartbeats.start()

    async def stop(self) -> None:
        unlisten(self.engine.db, self)
        await self.heartbeats.stop()
        await self.backplane.close()

    # --- told by the write hooks, after the commit -------------------------------------

    async def devices_changed(self, ids: list[int], deleted: bool) -> None:
        await self.backplane.bump_devices(ids)
        if deleted:
            for device_id in ids:
                await self.heartbeats.forget(device_id)
                await self.backplane.drop_logs(device_id)

    async def everything_changed(self) -> None:
        await self.backplane.bump_all()


__all__ = ["DeviceSettings", "DeviceSide"]
