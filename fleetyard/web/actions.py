"""What the dashboard's buttons do, written through the engine with the caller's rights.

Part of the web stage. Each action is the OData write a client would send (the fleet
page's pin body, a device's `is_pinned_on__release`, a variable's POST), run by the
server's engine with the session's `Caller`, so the domain rules (pinning, tracking,
variable names) and the permission rules decide, as they would over HTTP. A write that
touches no row the caller may change is refused with the API's wording.
"""

from __future__ import annotations

from fleetyard.api.callers import Caller
from fleetyard.errors import FleetyardError, PermissionDenied
from fleetyard.odata.engine import Engine


class ActionError(FleetyardError):
    status = 400
    code = "web.bad_request"


class Actions:
    def __init__(self, engine: Engine, caller: Caller):
        self.engine = engine
        self.caller = caller

    async def _patch(self, url: str, body: dict) -> None:
        changed = await self.engine.patch(url, body, self.caller.permissions, self.caller.context)
        if not changed:
            raise PermissionDenied("Unauthorized")

    async def pin_fleet(self, fleet: int, release: int) -> None:
        """The fleet page's "Pin entire fleet to a specific release"."""
        await self._patch(f"/application({int(fleet)})",
                          {"should_be_running__release": int(release), "should_track_latest_release": False})

    async def track_latest(self, fleet: int) -> None:
        """Tracking on again: the domain rule moves the target to the latest release."""
        await self._patch(f"/application({int(fleet)})", {"should_track_latest_release": True})

    async def pin_device(self, device: int, release: int | None) -> None:
        """A device's pin; None follows its fleet again."""
        await self._patch(f"/device({int(device)})", {"is_pinned_on__release": release})

    async def add_value(self, kind: tuple[str, str, str], owner: int, key: str, value: str) -> None:
        resource, owner_field, key_field = kind
        if not key.strip():
            raise ActionError("a name is required")
        await self.engine.post(f"/{resource}?returnResource=false",
                               {owner_field: int(owner), key_field: key.strip(), "value": value},
                               self.caller.permissions, self.caller.context)

    async def delete_value(self, kind: tuple[str, str, str], owner: int, row: int) -> None:
        resource, owner_field, _ = kind
        deleted = await self.engine.delete(f"/{resource}?$filter=id eq {int(row)} and {owner_field} eq {int(owner)}",
                                           self.caller.permissions, self.caller.context)
        if not deleted:
            raise PermissionDenied("Unauthorized")

    async def revoke_key(self, key: int, actor: int) -> None:
        """Deleting the key row ends it; the user rule allows a user's own keys only."""
        deleted = await self.engine.delete(f"/api_key?$filter=id eq {int(key)} and is_of__actor eq {int(actor)}",
                                           self.caller.permissions, self.caller.context)
        if not deleted:
            raise PermissionDenied("Unauthorized")
