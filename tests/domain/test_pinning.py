"""Pinning rules on both databases: a fleet's target and a device's pin only to a
successful release of the same fleet, whichever side of the rule is written; pinned
releases refuse their delete; tracking off keeps the target, on follows the latest
(spec/model.md §3.4, decisions.md "Fleets, releases, devices")."""

from __future__ import annotations

import pytest

from fleetyard.domain.common import RuleViolation
from fleetyard.domain.pinning import DEVICE_RULE, DEVICES_PINNED, FLEET_RULE

LATER = "2024-06-01T10:00:00.000Z"


@pytest.fixture
async def fleets(world) -> tuple[int, int]:
    return (await world.fleet("pinned"))["id"], (await world.fleet("neighbour"))["id"]


async def test_pin_a_fleet_as_the_seed_page_does(world, fleets):
    fleet, _ = fleets
    old = (await world.release(fleet, semver="1.0.0"))["id"]
    new = (await world.release(fleet, semver="1.1.0", start_timestamp=LATER))["id"]
    assert await world.target(fleet) == new
    # the seed's body: the release id as a string, the boolean as a string
    await world.patch(f"/application({fleet})", {"should_be_running__release": str(old),
                                                  "should_track_latest_release": "false"})
    assert await world.target(fleet) == old
    await world.patch("/application(slug='acme/pinned')", {"should_be_running__release": str(new),
                                                              "should_track_latest_release": False})
    assert await world.target(fleet) == new


async def test_a_fleet_pinned_to_another_fleets_release_is_refused(world, fleets):
    fleet, neighbour = fleets
    mine = (await world.release(fleet))["id"]
    theirs = (await world.release(neighbour))["id"]
    with pytest.raises(RuleViolation) as e:
        await world.patch(f"/application({fleet})", {"should_be_running__release": theirs})
    assert (e.value.status, e.value.message) == (400, FLEET_RULE)
    assert await world.target(fleet) == mine
    with pytest.raises(RuleViolation, match="each release that should be running on an application"):
        await world.fleet("born_pinned", should_be_running__release=theirs)


async def test_a_fleet_pinned_to_a_failed_release_is_refused(world, fleets):
    fleet, _ = fleets
    good = (await world.release(fleet))["id"]
    failed = (await world.release(fleet, status="failed"))["id"]
    with pytest.raises(RuleViolation, match=FLEET_RULE.replace("(", r"\(")):
        await world.patch(f"/application({fleet})", {"should_be_running__release": failed})
    assert await world.target(fleet) == good


async def test_the_rule_holds_when_the_release_changes(world, fleets):
    fleet, neighbour = fleets
    target = (await world.release(fleet))["id"]
    with pytest.raises(RuleViolation) as e:
        await world.patch(f"/release({target})", {"status": "failed"})
    assert e.value.message == FLEET_RULE
    with pytest.raises(RuleViolation):
        await world.patch(f"/release({target})", {"belongs_to__application": neighbour})
    assert (await world.one(f"/release({target})?$select=status"))["status"] == "success"


async def test_a_device_pin_needs_a_successful_release_of_its_fleet(world, fleets):
    fleet, neighbour = fleets
    mine = (await world.release(fleet))["id"]
    theirs = (await world.release(neighbour))["id"]
    failed = (await world.release(fleet, status="failed"))["id"]
    draft = (await world.release(fleet, is_final=False, is_passing_tests=False))["id"]
    device = (await world.device(fleet, is_pinned_on__release=mine))["id"]
    for bad in (theirs, failed):
        with pytest.raises(RuleViolation) as e:
            await world.patch(f"/device({device})", {"is_pinned_on__release": bad})
        assert (e.value.status, e.value.message) == (400, DEVICE_RULE)
    with pytest.raises(RuleViolation, match="each release that is pinned to a device"):
        await world.device(fleet, is_pinned_on__release=theirs)
    with pytest.raises(RuleViolation, match="each release that is pinned to a device"):
        await world.device(None, is_pinned_on__release=mine)  # no fleet, no release of it
    # drafts and untested releases may be pinned (§3.4)
    await world.patch(f"/device({device})", {"is_pinned_on__release": draft})
    row = await world.one(f"/device({device})?$select=is_pinned_on__release,should_be_running__release")
    assert row == {"is_pinned_on__release": {"__id": draft}, "should_be_running__release": {"__id": draft}}
    await world.patch(f"/device({device})", {"is_pinned_on__release": None})
    row = await world.one(f"/device({device})?$select=should_be_running__release")
    assert row["should_be_running__release"] == {"__id": mine}  # back to the fleet's target


async def test_a_fleets_target_release_cannot_be_deleted(world, fleets):
    fleet, _ = fleets
    target = (await world.release(fleet, semver="9.9.9"))["id"]
    with pytest.raises(RuleViolation) as e:
        await world.delete(f"/release({target})")
    assert (e.value.status, e.value.message) == (
        400, "Unable to delete release 9.9.9 because it is the fleet's target release.")
    assert await world.d(f"/release/$count?$filter=id eq {target}") == 1


async def test_a_release_devices_are_pinned_to_cannot_be_deleted(world, fleets):
    fleet, _ = fleets
    await world.release(fleet)
    pinned = (await world.release(fleet, is_final=False))["id"]
    await world.device(fleet, is_pinned_on__release=pinned)
    with pytest.raises(RuleViolation) as e:
        await world.delete(f"/release({pinned})")
    assert (e.value.status, e.value.message) == (400, DEVICES_PINNED)


async def test_a_release_devices_only_run_can_be_deleted(world, fleets):
    fleet, neighbour = fleets
    await world.release(fleet)
    old = (await world.release(fleet, is_final=False))["id"]
    here = (await world.device(fleet, is_running__release=old))["id"]
    there = (await world.device(neighbour, is_running__release=old))["id"]
    await world.post("/release_tag", {"release": old, "tag_key": "k", "value": "v"})
    assert await world.delete(f"/release({old})") == 1
    rows = await world.d(f"/device?$filter=id in ({here},{there})&$select=is_running__release")
    assert [r["is_running__release"] for r in rows] == [None, None]
    assert await world.d("/release_tag/$count") == 0


async def test_tracking_off_keeps_the_target_and_on_follows_the_latest(world, fleets):
    fleet, _ = fleets
    first = (await world.release(fleet))["id"]
    await world.patch(f"/application({fleet})", {"should_track_latest_release": "false"})
    assert await world.target(fleet) == first
    latest = (await world.release(fleet, start_timestamp=LATER))["id"]
    assert await world.target(fleet) == first
    await world.patch(f"/application({fleet})", {"should_track_latest_release": "true"})
    assert await world.target(fleet) == latest
    row = await world.one(f"/application({fleet})?$select=should_track_latest_release")
    assert row["should_track_latest_release"] is True


async def test_tracking_on_with_a_release_in_the_body_takes_that_release(world, fleets):
    fleet, _ = fleets
    first = (await world.release(fleet))["id"]
    await world.release(fleet, start_timestamp=LATER)
    # the SDK's track_latest_release sends the release it wants with the flag
    await world.patch(f"/application({fleet})", {"should_track_latest_release": True,
                                                  "should_be_running__release": first})
    assert await world.target(fleet) == first


async def test_tracking_on_without_any_trackable_release_keeps_the_target(world, fleets):
    fleet, _ = fleets
    await world.patch(f"/application({fleet})", {"should_track_latest_release": False})
    await world.release(fleet, is_final=False)
    await world.patch(f"/application({fleet})", {"should_track_latest_release": True})
    assert await world.target(fleet) is None
