"""device_history: one snapshot of a device's tracked fields per period, with exactly one
open entry (no `end_timestamp`) per live device (spec/model.md §7, decisions.md).

Part of the device side, as a write hook on `device`: a new device opens its first entry;
a write that changes its fleet, pin, running release, OS, supervisor, device type or
activity ends the open entry (by the writing actor) and opens the next; a delete ends it.
Which VPN instance manages the device is recorded in each entry but does not start one
(it flips on every reconnect). Entries use the v7 fields (`is_pinned_on__release`).
"""

from __future__ import annotations

from typing import Any

from fleetyard.device.common import ref
from fleetyard.domain.common import chunks, now, within
from fleetyard.odata.hooks import Hooks, Write

# Compared before and after a write: a change of any of these opens a new entry.
TRACKED = (
    "belongs_to__application", "is_active", "is_running__release", "is_pinned_on__release",
    "os_version", "os_variant", "supervisor_version", "is_of__device_type", "should_be_managed_by__release",
)
RECORDED = TRACKED + ("is_managed_by__service_instance",)
_BEFORE = "__history_before"


def _actor(w: Write) -> int | None:
    actor = w.context.get("__ACTOR_ID")
    return int(actor) if isinstance(actor, int) else None


async def _snapshot(w: Write, ids: list) -> dict[Any, dict[str, Any]]:
    out: dict[Any, dict[str, Any]] = {}
    for part in chunks(ids):
        for row in await w.get(f"/device?$select=id,uuid,actor,{','.join(RECORDED)}&$filter={within('id', part)}"):
            out[row["id"]] = row
    return out


async def open_entry(w: Write, row: dict[str, Any]) -> None:
    body = {name: ref(row[name]) for name in RECORDED}
    body.update(tracks__device=row["id"], tracks__actor=ref(row["actor"]), uuid=row["uuid"],
                is_created_by__actor=_actor(w))
    await w.post("/device_history?returnResource=false", body)


async def end_entries(w: Write, ids: list, at: str) -> None:
    for part in chunks(ids):
        await w.patch(f"/device_history?$filter={within('tracks__device', part)} and end_timestamp eq null",
                      {"end_timestamp": at, "is_ended_by__actor": _actor(w)})


class DeviceHistory(Hooks):
    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        for row in (await _snapshot(w, [new_id])).values():
            await open_entry(w, row)

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        if any(name in data for name in TRACKED):
            data = {**data, _BEFORE: await _snapshot(w, ids)}
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        before = data.get(_BEFORE)
        if not before:
            return
        after = await _snapshot(w, list(before))
        changed = [i for i, row in after.items()
                   if any(ref(row[n]) != ref(before[i][n]) for n in TRACKED)]
        if not changed:
            return
        at = now()
        await end_entries(w, changed, at)
        for i in changed:
            await open_entry(w, after[i])

    async def before_delete(self, w: Write, ids: list) -> None:
        await end_entries(w, ids, now())
