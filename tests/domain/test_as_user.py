"""The rules with a user's rights (fleetyard.auth's user rule set), on both databases: a
member of `acme` runs a fleet's whole life, and the rules that read with the caller's
rights (the organization's handle, the fleet a device moves to) see what the user sees."""

from __future__ import annotations

import pytest

from fleetyard.auth.permissions import USER
from fleetyard.domain.common import NotVisible, RuleViolation
from fleetyard.errors import PermissionDenied
from tests.domain.conftest import START

ME = {"__ACTOR_ID": 1}  # alice


@pytest.fixture
async def member(world):
    await world.post("/organization_membership_role", {"name": "administrator"})
    await world.post("/organization_membership",
                     {"user": 1, "is_member_of__organization": 1, "organization_membership_role": 1})
    return world


async def as_user(world, method: str, url: str, body: dict | None = None):
    e = world.engine
    if method == "POST":
        return await e.post(url, body, USER, ME)
    if method == "PATCH":
        return await e.patch(url, body, USER, ME)
    return await e.delete(url, USER, ME)


async def test_a_members_fleet_from_birth_to_delete(member):
    fleet = await as_user(member, "POST", "/application", {"app_name": "Mine", "organization": 1,
                                                           "is_for__device_type": 1})
    assert fleet["slug"] == "acme/mine"
    fid = fleet["id"]
    rel = await as_user(member, "POST", "/release", {
        "belongs_to__application": fid, "commit": "abc", "composition": {}, "status": "success",
        "source": "cloud", "start_timestamp": START, "semver": "1.0.0"})
    assert rel["revision"] == 0 and rel["is_created_by__user"] == {"__id": 1}
    assert await member.target(fid) == rel["id"]
    device = await as_user(member, "POST", "/device", {"belongs_to__application": fid, "is_of__device_type": 1,
                                                       "is_pinned_on__release": rel["id"]})
    await as_user(member, "POST", "/device_tag", {"device": device["id"], "tag_key": "k", "value": "v"})
    await as_user(member, "PATCH", f"/application({fid})", {"should_track_latest_release": False})
    assert await as_user(member, "DELETE", f"/application({fid})") == 1
    for resource in ("application", "release", "device", "device_tag"):
        assert await member.d(f"/{resource}/$count") == 0, resource


async def test_a_fleet_in_an_organization_the_user_is_not_in(member):
    with pytest.raises(RuleViolation, match="^Missing organization handle$"):
        await as_user(member, "POST", "/application", {"app_name": "theirs", "organization": 2,
                                                       "is_for__device_type": 1})


async def test_a_device_cannot_move_to_a_fleet_the_user_cannot_see(member):
    mine = (await as_user(member, "POST", "/application", {"app_name": "Mine", "organization": 1,
                                                           "is_for__device_type": 1}))["id"]
    theirs = (await member.fleet("theirs", organization=2))["id"]
    device = (await as_user(member, "POST", "/device", {"belongs_to__application": mine,
                                                        "is_of__device_type": 1}))["id"]
    with pytest.raises(NotVisible, match="^Application doesn't exist or you have no access to it.$"):
        await as_user(member, "PATCH", f"/device({device})", {"belongs_to__application": theirs})


async def test_deleting_an_invisible_fleet_by_key_is_404(member):
    theirs = (await member.fleet("theirs", organization=2))["id"]
    with pytest.raises(NotVisible, match=r"^Application\(s\) not found.$"):
        await as_user(member, "DELETE", f"/application({theirs})")
    with pytest.raises(PermissionDenied):  # and a device can't be created in it either
        await as_user(member, "POST", "/device", {"belongs_to__application": theirs, "is_of__device_type": 1})
