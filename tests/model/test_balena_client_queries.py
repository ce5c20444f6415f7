"""The balena model against what clients send, on both databases: every GET the SDKs and
the CLI sent in the recorded sessions resolves and runs, and the resource defined by a
query (`user__has_direct_access_to__application`, spec/model.md §1.35) lists exactly the
fleets decisions.md grants, narrowed to the caller by a permission rule."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fleetyard.db import Database
from fleetyard.odata.permissions import Permissions
from tests.model.balena_seed import ALL, engine_for, everything

CLIENT_URLS = [
    line for line in (Path(__file__).parent / "balena_client_urls.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


@pytest.fixture
async def engine(database: Database):
    e = await engine_for(database)
    await everything(e)
    return e


async def d(engine, url, perms=ALL, context=None):
    return orjson.loads(await engine.get(url, perms, context))["d"]


async def test_every_recorded_client_read_runs(engine) -> None:
    assert len(CLIENT_URLS) > 150
    failures = []
    for url in CLIENT_URLS:
        try:
            await engine.get(url, ALL)
        except Exception as e:  # collect them all: one list says what the model lacks
            failures.append(f"{url}: {type(e).__name__}: {e}")
    assert failures == []


async def test_a_client_device_read_with_status_and_nested_installs(engine) -> None:
    (dev,) = await d(engine, f"/device(uuid='{1:032x}')?$select=device_name,overall_status,is_web_accessible"
                             "&$expand=image_install($select=status;$filter=status ne 'deleted';"
                             "$expand=image($select=id;$expand=is_a_build_of__service($select=service_name)),"
                             "is_provided_by__release($select=raw_version;"
                             "$expand=belongs_to__application($select=slug)))")
    assert dev["overall_status"] == "configuring" and dev["is_web_accessible"] is False
    (inst,) = dev["image_install"]
    assert inst["image"] == [{"id": 1, "is_a_build_of__service": [{"service_name": "main"}]}]
    assert inst["is_provided_by__release"] == [
        {"raw_version": "1.0.0", "belongs_to__application": [{"slug": "acme/fleet"}]}]


async def test_direct_access_through_organizations_and_fleet_memberships(engine) -> None:
    # alice belongs to Acme (fleet 1); bob is a member of the public fleet 2 only.
    pairs = await d(engine, "/user__has_direct_access_to__application"
                            "?$orderby=user asc,has_direct_access_to__application asc")
    assert pairs == [
        {"id": None, "user": {"__id": 1}, "has_direct_access_to__application": {"__id": 1}},
        {"id": None, "user": {"__id": 2}, "has_direct_access_to__application": {"__id": 2}},
    ]
    by_alice = "/application?$select=id&$filter=is_directly_accessible_by__user/any(dau:dau/user eq 1)"
    assert await d(engine, by_alice) == [{"id": 1}]
    (alice,) = await d(engine, "/user(1)?$select=id&$expand=has_direct_access_to__application("
                               "$expand=has_direct_access_to__application($select=slug))")
    assert [r["has_direct_access_to__application"] for r in alice["has_direct_access_to__application"]] == [
        [{"slug": "acme/fleet"}]]


async def test_direct_access_narrowed_to_the_caller_by_a_permission_rule(engine) -> None:
    """The SDK's `getAll` filter, with the rule a server would give this resource."""
    perms = Permissions(rules={
        "application": {"read": True},
        "user": {"read": True},
        "user__has_direct_access_to__application": {"read": "user/actor eq @__ACTOR_ID"},
    }, key="direct-access")
    url = "/application?$select=slug&$filter=is_directly_accessible_by__user/any(dau:1 eq 1)"
    assert await d(engine, url, perms, {"__ACTOR_ID": 1}) == [{"slug": "acme/fleet"}]
    assert await d(engine, url, perms, {"__ACTOR_ID": 2}) == [{"slug": "balena_os/raspberrypi4-64"}]
    assert await d(engine, url, perms, {"__ACTOR_ID": 99}) == []
    # A public fleet is readable, but not directly accessible through publicity alone.
    await engine.patch("/application(1)", {"is_public": True}, ALL)
    assert await d(engine, url, perms, {"__ACTOR_ID": 2}) == [{"slug": "balena_os/raspberrypi4-64"}]
