"""The device's computed fields on rows written through the engine, on both databases:
overall_status row by row of spec/model.md §4.6 (VPN-control lookups at device and fleet
level, the image_install 'Downloading' probe), overall_progress (§4.7), the computed
foreign key should_be_running__release and the constant is_web_accessible (§4.8)."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.db import Database
from tests.model.balena_seed import ALL, START, base, device, engine_for, fleet

SEEN = "2024-05-01T10:05:00.000Z"
ONLINE = {"is_connected_to_vpn": True, "api_heartbeat_state": "online", "last_connectivity_event": SEEN}
# VPN off and heartbeat online: §4.6 row 8 then depends on the VPN-control variables.
VPN_OFF_ONLINE = {"is_connected_to_vpn": False, "api_heartbeat_state": "online", "last_connectivity_event": SEEN}
DOWNLOADING = {"download_progress": 50, "status": "Downloading"}
VPN_CONTROL = "BALENA_SUPERVISOR_VPN_CONTROL"
RESIN_VPN_CONTROL = "RESIN_SUPERVISOR_VPN_CONTROL"


@pytest.fixture
async def engine(database: Database):
    """`base` plus a service with four images of release 1 and 2, and fleet 3 whose
    config turns the VPN off (RESIN_ variable 'false')."""
    e = await engine_for(database)
    await base(e)
    await e.post("/service", {"application": 1, "service_name": "main"}, ALL)
    for i in range(1, 5):
        await e.post("/image", {"start_timestamp": START, "is_a_build_of__service": 1, "status": "success",
                                "is_stored_at__image_location": f"registry/v2/{i:032x}"}, ALL)
    actor = await e.post("/actor", {}, ALL)
    await fleet(e, actor=actor["id"], organization=1, slug="acme/quiet", uuid="c" * 32)
    await e.post("/application_config_variable",
                 {"application": 3, "name": RESIN_VPN_CONTROL, "value": "false"}, ALL)
    return e


async def d(engine, url):
    return orjson.loads(await engine.get(url, ALL))["d"]


async def install(engine, device_id: int, image: int, status: str, progress: int | None,
                  release: int = 1) -> None:
    await engine.post("/image_install", {"device": device_id, "installs__image": image, "install_date": START,
                                         "status": status, "download_progress": progress,
                                         "is_provided_by__release": release}, ALL)


async def config_var(engine, device_id: int, name: str, value: str) -> None:
    await engine.post("/device_config_variable", {"device": device_id, "name": name, "value": value}, ALL)


async def field_by_name(engine, field: str) -> dict[str, object]:
    return {r["device_name"]: r[field] for r in await d(engine, f"/device?$select=device_name,{field}")}


# --- overall_status -----------------------------------------------------------------------

# name: (fleet, device fields, expected status), one or more per row of §4.6
STATUS_CASES: dict[str, tuple[int, dict, str]] = {
    "1 inactive": (1, {**ONLINE, "is_active": False}, "inactive"),
    "1 inactive beats post-provisioning": (1, {"is_active": False, "provisioning_state": "Post-Provisioning"}, "inactive"),
    "2 post-provisioning": (1, {**ONLINE, "provisioning_state": "Post-Provisioning"}, "post-provisioning"),
    "2 post-provisioning beats never seen": (1, {"provisioning_state": "Post-Provisioning"}, "post-provisioning"),
    "3 never seen": (1, {}, "configuring"),
    "3 never seen, even downloading": (1, {**DOWNLOADING}, "configuring"),
    "4 offline": (1, {"api_heartbeat_state": "offline", "last_connectivity_event": SEEN}, "disconnected"),
    "4 unknown after a connection": (1, {"last_connectivity_event": SEEN}, "disconnected"),
    "4 offline, even downloading": (1, {"api_heartbeat_state": "offline", "last_connectivity_event": SEEN,
                                        **DOWNLOADING}, "disconnected"),
    "5 downloading online": (1, {**ONLINE, **DOWNLOADING}, "updating"),
    "5 downloading in timeout": (1, {**ONLINE, "api_heartbeat_state": "timeout", **DOWNLOADING}, "updating"),
    "5 needs a progress": (1, {**ONLINE, "status": "Downloading"}, "operational"),
    "5 downloading with the VPN on but offline": (1, {**ONLINE, "api_heartbeat_state": "offline", **DOWNLOADING},
                                                  "reduced-functionality"),
    "6 provisioning": (1, {**ONLINE, "provisioning_progress": 10}, "configuring"),
    "6 provisioning beats an install downloading": (1, {**ONLINE, "provisioning_progress": 10}, "configuring"),
    "7 an install downloading": (1, {**ONLINE}, "updating"),
    "7 an install downloading in timeout": (1, {**ONLINE, "api_heartbeat_state": "timeout"}, "updating"),
    "7 an install without progress": (1, {**ONLINE}, "operational"),
    "7 an install downloading, heartbeat offline": (1, {**ONLINE, "api_heartbeat_state": "offline"},
                                                    "reduced-functionality"),
    "8 timeout": (1, {**ONLINE, "api_heartbeat_state": "timeout"}, "reduced-functionality"),
    "8 timeout without the VPN": (1, {**VPN_OFF_ONLINE, "api_heartbeat_state": "timeout"}, "reduced-functionality"),
    "8 VPN on, heartbeat offline": (1, {**ONLINE, "api_heartbeat_state": "offline"}, "reduced-functionality"),
    "8 VPN on, heartbeat unknown": (1, {**ONLINE, "api_heartbeat_state": "unknown"}, "reduced-functionality"),
    "8 VPN off, no control variable": (1, {**VPN_OFF_ONLINE}, "reduced-functionality"),
    "8 VPN off, device control 'false'": (1, {**VPN_OFF_ONLINE}, "operational"),
    "8 VPN off, device RESIN_ control 'false'": (1, {**VPN_OFF_ONLINE}, "operational"),
    "8 VPN off, device control 'False' is not 'false'": (1, {**VPN_OFF_ONLINE}, "reduced-functionality"),
    "8 VPN off, BALENA_ 'false' wins over RESIN_ 'true'": (1, {**VPN_OFF_ONLINE}, "operational"),
    "8 VPN off, BALENA_ 'true' wins over RESIN_ 'false'": (1, {**VPN_OFF_ONLINE}, "reduced-functionality"),
    "8 VPN off, fleet control 'false'": (3, {**VPN_OFF_ONLINE}, "operational"),
    "8 VPN off, device 'true' beats fleet 'false'": (3, {**VPN_OFF_ONLINE}, "reduced-functionality"),
    "8 VPN off, no fleet": (None, {**VPN_OFF_ONLINE}, "reduced-functionality"),  # type: ignore[dict-item]
    "9 operational": (1, {**ONLINE}, "operational"),
    "9 operational in a quiet fleet": (3, {**ONLINE}, "operational"),
}

# What else each case needs: config variables (name, value) and image installs (status, progress).
STATUS_VARS = {
    "8 VPN off, device control 'false'": [(VPN_CONTROL, "false")],
    "8 VPN off, device RESIN_ control 'false'": [(RESIN_VPN_CONTROL, "false")],
    "8 VPN off, device control 'False' is not 'false'": [(VPN_CONTROL, "False")],
    "8 VPN off, BALENA_ 'false' wins over RESIN_ 'true'": [(VPN_CONTROL, "false"), (RESIN_VPN_CONTROL, "true")],
    "8 VPN off, BALENA_ 'true' wins over RESIN_ 'false'": [(VPN_CONTROL, "true"), (RESIN_VPN_CONTROL, "false")],
    "8 VPN off, device 'true' beats fleet 'false'": [(VPN_CONTROL, "true")],
    "9 operational": [("BALENA_SUPERVISOR_POLL_INTERVAL", "false")],  # another variable is no control
}
STATUS_INSTALLS = {
    "6 provisioning beats an install downloading": [("Downloading", 30)],
    "7 an install downloading": [("Running", None), ("Downloading", 30)],
    "7 an install downloading in timeout": [("Downloading", 30)],
    "7 an install without progress": [("Downloading", None), ("Running", 100)],
    "7 an install downloading, heartbeat offline": [("Downloading", 30)],
}


async def test_overall_status_for_every_row_of_the_table(engine) -> None:
    for n, (name, (fleet_id, fields, _)) in enumerate(STATUS_CASES.items(), 1):
        row = await device(engine, n, fleet_id, **fields)
        await engine.patch(f"/device({row['id']})", {"device_name": name}, ALL)
        for var, value in STATUS_VARS.get(name, []):
            await config_var(engine, row["id"], var, value)
        for image, (status, progress) in enumerate(STATUS_INSTALLS.get(name, []), 1):
            await install(engine, row["id"], image, status, progress)
    assert await field_by_name(engine, "overall_status") == {
        name: expected for name, (_, _, expected) in STATUS_CASES.items()}
    # The computed value filters and orders like a column.
    updating = await d(engine, "/device/$count?$filter=overall_status eq 'updating'")
    assert updating == sum(expected == "updating" for _, _, expected in STATUS_CASES.values())


async def test_the_returned_row_of_a_post_carries_the_status(engine) -> None:
    row = await device(engine, 1, **ONLINE)
    assert row["overall_status"] == "operational" and row["overall_progress"] is None
    assert row["is_web_accessible"] is False


# --- overall_progress ---------------------------------------------------------------------

# name: (device fields, installs (image, status, progress, release), expected progress)
PROGRESS_CASES: dict[str, tuple[dict, list[tuple[int, str, int | None, int]], int | None]] = {
    "1 inactive": ({"is_active": False, "provisioning_progress": 5}, [], None),
    "2 post-provisioning": ({**ONLINE, "provisioning_state": "Post-Provisioning", "provisioning_progress": 40}, [], 40),
    "3 never seen": ({"provisioning_progress": 20}, [], 20),
    "3 never seen, no progress": ({}, [], None),
    "4 offline": ({"api_heartbeat_state": "offline", "last_connectivity_event": SEEN, **DOWNLOADING}, [], None),
    "5 downloading, no heartbeat condition": ({**ONLINE, "api_heartbeat_state": "offline", **DOWNLOADING}, [], 50),
    "6 provisioning": ({**ONLINE, "provisioning_progress": 70}, [], 70),
    "7 installs: 50 downloading, target running counts 100": (
        {**ONLINE}, [(1, "Downloading", 50, 1), (2, "Running", None, 1)], 75),
    "7 installs: deleted and other releases do not count": (
        {**ONLINE}, [(1, "Downloading", 50, 1), (2, "deleted", 0, 1), (3, "Running", 0, 2)], 50),
    "7 installs: a downloading install of any release counts": (
        {**ONLINE}, [(1, "Downloading", 20, 2), (2, "Running", 40, 1)], 30),
    "7 installs: the pin is the target": (
        {**ONLINE, "is_pinned_on__release": 2}, [(1, "Downloading", 10, 1), (2, "Running", 21, 2),
                                                 (3, "Running", 0, 1)], 16),  # (10 + 21) / 2 = 15.5
    "7 installs: half rounds away from zero": (
        {**ONLINE}, [(1, "Downloading", 0, 1), (2, "Downloading", 1, 1)], 1),
    "8 otherwise": ({**ONLINE}, [(1, "Running", 100, 1)], None),
}


async def test_overall_progress_for_every_row_of_the_table(engine) -> None:
    for n, (name, (fields, installs, _)) in enumerate(PROGRESS_CASES.items(), 1):
        row = await device(engine, n, 1, **fields)
        await engine.patch(f"/device({row['id']})", {"device_name": name}, ALL)
        for image, status, progress, release in installs:
            await install(engine, row["id"], image, status, progress, release)
    assert await field_by_name(engine, "overall_progress") == {
        name: expected for name, (_, _, expected) in PROGRESS_CASES.items()}


# --- should_be_running__release and is_web_accessible ---------------------------------------


async def test_should_be_running_release_is_the_pin_else_the_fleet_target(engine) -> None:
    await device(engine, 1, is_pinned_on__release=2)
    await device(engine, 2)
    await device(engine, 3, fleet_id=3)  # a fleet without a target
    await device(engine, 4, fleet_id=None)
    targets = await d(engine, "/device?$select=id,should_be_running__release")
    assert [t["should_be_running__release"] for t in targets] == [{"__id": 2}, {"__id": 1}, None, None]
    # It follows the fleet's target as it moves; the pin still wins.
    await engine.patch("/application(1)", {"should_be_running__release": 2}, ALL)
    await engine.patch("/device(1)", {"is_pinned_on__release": 1}, ALL)
    targets = await d(engine, "/device?$select=id,should_be_running__release")
    assert [t["should_be_running__release"] for t in targets] == [{"__id": 1}, {"__id": 2}, None, None]


async def test_should_be_running_release_navigates_and_expands_both_ways(engine) -> None:
    await device(engine, 1, is_pinned_on__release=2)
    await device(engine, 2)
    rows = await d(engine, "/device?$select=id&$expand=should_be_running__release($select=id,commit)")
    assert [r["should_be_running__release"] for r in rows] == [[{"id": 2, "commit": "c2"}],
                                                               [{"id": 1, "commit": "c1"}]]
    assert [r["id"] for r in await d(engine, "/device?$filter=should_be_running__release/commit eq 'c1'")] == [2]
    assert [r["id"] for r in await d(engine, "/device?$filter=should_be_running__release eq 2")] == [1]
    releases = await d(engine, "/release?$select=id&$expand=should_be_running_on__device($select=id)")
    assert [(r["id"], r["should_be_running_on__device"]) for r in releases] == [
        (1, [{"id": 2}]), (2, [{"id": 1}])]
    assert await d(engine, "/release(1)/should_be_running_on__device/$count") == 1
    assert await d(engine, "/release/$count?$filter=should_be_running_on__device/any(x:x/id eq 1)") == 1


async def test_is_web_accessible_is_always_false(engine) -> None:
    for n in range(1, 4):
        await device(engine, n, **ONLINE)
    assert await d(engine, "/device/$count?$filter=is_web_accessible eq false") == 3
    assert {r["is_web_accessible"] for r in await d(engine, "/device?$select=is_web_accessible")} == {False}
