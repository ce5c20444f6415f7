"""Pinning rules: what a fleet's target (`application.should_be_running__release`) and a
device's pin (`device.is_pinned_on__release`) may point at, and which releases can
therefore not be deleted (spec/model.md §3.4).

The reference checks the two rules after every write that could break them, whichever
side was written; so do we: after a fleet or device write that sets a target, and after
a release write that changes its status or its fleet.
"""

from __future__ import annotations

from fleetyard.domain.common import RuleViolation, chunks, ref, within
from fleetyard.odata.hooks import Write

FLEET_RULE = (
    "It is necessary that each release that should be running on an application, has a status "
    'that is equal to "success" and belongs to the application.'
)
DEVICE_RULE = (
    "It is necessary that each release that is pinned to a device, has a status that is equal "
    'to "success" and belongs to an application1 that the device belongs to.'
)
DEVICES_PINNED = "Unable to delete a release because device(s) are pinned to it."

_RELEASE = "($select=status,belongs_to__application)"


def _broken(owner: object, releases: list[dict]) -> bool:
    """Whether a target fails its rule: a successful release of `owner` (a fleet id)."""
    if not releases:
        return False
    (r,) = releases
    return r["status"] != "success" or owner is None or ref(r["belongs_to__application"]) != owner


async def check_fleets(w: Write, fleet_ids: list) -> None:
    for part in chunks(fleet_ids):
        rows = await w.get(f"/application?$select=id&$filter={within('id', part)} and "
                           f"should_be_running__release ne null&$expand=should_be_running__release{_RELEASE}")
        if any(_broken(row["id"], row["should_be_running__release"]) for row in rows):
            raise RuleViolation(FLEET_RULE)


async def check_devices(w: Write, device_ids: list) -> None:
    for part in chunks(device_ids):
        rows = await w.get(f"/device?$select=belongs_to__application&$filter={within('id', part)} and "
                           f"is_pinned_on__release ne null&$expand=is_pinned_on__release{_RELEASE}")
        if any(_broken(ref(row["belongs_to__application"]), row["is_pinned_on__release"]) for row in rows):
            raise RuleViolation(DEVICE_RULE)


async def check_releases(w: Write, release_ids: list) -> None:
    """The fleets and devices that target these releases still satisfy their rules."""
    for part in chunks(release_ids):
        fleets = await w.get(f"/application?$select=id&$filter={within('should_be_running__release', part)}")
        await check_fleets(w, [f["id"] for f in fleets])
        devices = await w.get(f"/device?$select=id&$filter={within('is_pinned_on__release', part)}")
        await check_devices(w, [d["id"] for d in devices])


async def refuse_deleting_pinned(w: Write, release_ids: list) -> None:
    """A release a fleet targets or a device is pinned to stays (model.md §3.4)."""
    for part in chunks(release_ids):
        targets = await w.get(
            f"/release?$select=raw_version&$filter={within('id', part)} and "
            "should_be_running_on__application/any(a:1 eq 1)"
            "&$expand=should_be_running_on__application($select=is_of__class;$top=1)&$top=1")
        if targets:
            (release,) = targets
            kind = release["should_be_running_on__application"][0]["is_of__class"]
            raise RuleViolation(
                f"Unable to delete release {release['raw_version']} because it is the {kind}'s target release.")
        if await w.get(f"/device/$count?$filter={within('is_pinned_on__release', part)}"):
            raise RuleViolation(DEVICES_PINNED)
