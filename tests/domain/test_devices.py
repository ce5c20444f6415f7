"""Device rules on both databases: uuid and name on POST, an actor per device, PATCH side
effects, moving between fleets (pin cleared, architectures checked, the old fleet's
installs let go), the web-URL flag and the delete's cascade (spec/model.md §4.1-4.3,
§4.8, decisions.md)."""

from __future__ import annotations

import re

import pytest

from fleetyard.domain.common import Forbidden, NotVisible, RuleViolation
from fleetyard.domain.devices import UUID_MESSAGE, can_run
from fleetyard.domain.names import ADJECTIVES, NOUNS
from fleetyard.errors import ConstraintError
from tests.domain.conftest import START


@pytest.fixture
async def fleet(world) -> int:
    return (await world.fleet("devices"))["id"]


async def test_uuid_is_generated_when_missing_or_empty(world, fleet):
    for extra in ({}, {"uuid": ""}, {"uuid": None}):
        uuid = (await world.device(fleet, **extra))["uuid"]
        assert re.fullmatch(r"[0-9a-f]{32}", uuid)


@pytest.mark.parametrize("uuid", ["a" * 32, "0123456789abcdef" * 3 + "0123456789abcd"])
async def test_uuid_of_32_or_62_lower_case_hex_is_kept(world, fleet, uuid):
    assert (await world.device(fleet, uuid=uuid))["uuid"] == uuid
    with pytest.raises(ConstraintError) as e:
        await world.device(fleet, uuid=uuid)
    assert (e.value.status, e.value.message) == (409, '"uuid" must be unique.')


@pytest.mark.parametrize("uuid", ["A" * 32, "a" * 31, "a" * 33, "a" * 62 + "b", "g" * 32, "a" * 40])
async def test_other_uuids_are_refused(world, fleet, uuid):
    with pytest.raises(RuleViolation) as e:
        await world.device(fleet, uuid=uuid)
    assert (e.value.status, e.value.message) == (400, UUID_MESSAGE)
    device = (await world.device(fleet))["id"]
    with pytest.raises(RuleViolation, match=UUID_MESSAGE):
        await world.patch(f"/device({device})", {"uuid": uuid})


async def test_a_uuid_must_be_a_string(world, fleet):
    with pytest.raises(RuleViolation, match="^Device UUID must be a string if provided.$"):
        await world.device(fleet, uuid=12345)


async def test_names_are_generated_when_missing_or_empty(world, fleet):
    names = {(await world.device(fleet, **extra))["device_name"] for extra in ({}, {"device_name": ""})}
    for name in names:
        adjective, noun = name.split("-")
        assert adjective in ADJECTIVES and noun in NOUNS
    assert (await world.device(fleet, device_name="kitchen-pi"))["device_name"] == "kitchen-pi"


async def test_names_are_strings_on_one_line(world, fleet):
    with pytest.raises(RuleViolation, match="^Device name must be a string if provided.$"):
        await world.device(fleet, device_name=7)
    for bad in ("two\nlines", "carriage\rreturn"):
        with pytest.raises(RuleViolation, match="^Device name cannot contain any newline characters.$"):
            await world.device(fleet, device_name=bad)
    device = (await world.device(fleet))["id"]
    with pytest.raises(RuleViolation, match="newline"):
        await world.patch(f"/device({device})", {"device_name": "a\nb"})


async def test_an_actor_row_per_device(world, fleet):
    a = await world.device(fleet, actor=1)
    b = await world.device(fleet)
    assert a["actor"] != b["actor"] and a["actor"] != {"__id": 1}
    actor = await world.one(f"/actor({a['actor']['__id']})?$expand=is_of__device($select=id)")
    assert actor["is_of__device"] == [{"id": a["id"]}]


async def test_patch_side_effects(world, fleet):
    device = (await world.device(fleet))["id"]
    url = f"/device({device})"
    await world.patch(url, {"is_online": "true"})
    row = await world.one(url)
    assert row["is_online"] is True and row["last_connectivity_event"] is not None
    assert row["last_vpn_event"] is None and row["last_update_status_event"] is None
    await world.patch(url, {"is_connected_to_vpn": False})
    row = await world.one(url)
    assert row["is_online"] is False and row["last_vpn_event"] is not None  # mirrored
    await world.patch(url, {"update_status": "downloading"})
    assert (await world.one(url))["last_update_status_event"] is not None
    await world.patch(url, {"os_version": "balenaOS 2.88.4 (dev)"})
    assert (await world.one(url))["os_variant"] == "dev"
    await world.patch(url, {"os_version": "balenaOS 2.88.4", "os_variant": "prod"})
    assert (await world.one(url))["os_variant"] == "prod"


async def test_a_new_device_type_drops_the_host_os_target(world, fleet):
    host = (await world.fleet("hostos", is_host=True))["id"]
    os_release = (await world.release(host))["id"]
    device = (await world.device(fleet, should_be_operated_by__release=os_release))["id"]
    await world.patch(f"/device({device})", {"is_of__device_type": 5})
    assert (await world.one(f"/device({device})?$select=should_be_operated_by__release"))[
        "should_be_operated_by__release"] is None


async def test_web_url_cannot_be_turned_on(world, fleet):
    device = (await world.device(fleet))["id"]
    with pytest.raises(Forbidden) as e:
        await world.patch(f"/device({device})", {"is_web_accessible": True})
    assert (e.value.status, e.value.message) == (403, "The application type does not support web url.")
    assert await world.patch(f"/device({device})", {"is_web_accessible": False}) == 1
    assert (await world.one(f"/device({device})?$select=is_web_accessible"))["is_web_accessible"] is False


# --- moving (§4.3) ------------------------------------------------------------------------------


async def test_moving_clears_the_pin(world, fleet):
    target = (await world.fleet("target"))["id"]
    release = (await world.release(fleet))["id"]
    device = (await world.device(fleet, is_pinned_on__release=release))["id"]
    await world.patch(f"/device({device})", {"belongs_to__application": target})
    row = await world.one(f"/device({device})?$select=belongs_to__application,is_pinned_on__release")
    assert row == {"belongs_to__application": {"__id": target}, "is_pinned_on__release": None}


async def test_a_pin_sent_with_the_move_must_hold_in_the_new_fleet(world, fleet):
    target = (await world.fleet("target"))["id"]
    old = (await world.release(fleet))["id"]
    new = (await world.release(target))["id"]
    device = (await world.device(fleet))["id"]
    with pytest.raises(RuleViolation, match="each release that is pinned to a device"):
        await world.patch(f"/device({device})", {"belongs_to__application": target, "is_pinned_on__release": old})
    await world.patch(f"/device({device})", {"belongs_to__application": target, "is_pinned_on__release": new})
    assert (await world.one(f"/device({device})?$select=is_pinned_on__release"))["is_pinned_on__release"] == {
        "__id": new}


async def test_moving_to_a_fleet_that_does_not_exist_is_404(world, fleet):
    device = (await world.device(fleet))["id"]
    with pytest.raises(NotVisible) as e:
        await world.patch(f"/device({device})", {"belongs_to__application": 99})
    assert (e.value.status, e.value.message) == (404, "Application doesn't exist or you have no access to it.")


async def test_an_incompatible_move_is_refused_naming_both_device_types(world, fleet):
    nuc = (await world.fleet("nucs", device_type=3))["id"]  # amd64
    device = (await world.device(fleet, device_type=1))["id"]  # raspberrypi4-64, aarch64
    with pytest.raises(RuleViolation) as e:
        await world.patch(f"/device({device})", {"belongs_to__application": nuc})
    assert e.value.status == 400
    assert "raspberrypi4-64" in e.value.message and "intel-nuc" in e.value.message
    assert (await world.one(f"/device({device})?$select=belongs_to__application"))[
        "belongs_to__application"] == {"__id": fleet}


async def test_a_compatible_move_goes_through(world, fleet):
    armv7 = (await world.fleet("armv7", device_type=2))["id"]  # raspberrypi3, armv7hf
    device = (await world.device(fleet, device_type=1))["id"]  # aarch64 runs armv7hf
    await world.patch(f"/device({device})", {"belongs_to__application": armv7})
    back = (await world.device(armv7, device_type=2))["id"]
    with pytest.raises(RuleViolation, match="raspberrypi3"):  # armv7hf does not run aarch64
        await world.patch(f"/device({back})", {"belongs_to__application": fleet})


def test_architecture_compatibility():
    assert can_run("aarch64", "aarch64") and can_run("aarch64", "armv7hf") and can_run("aarch64", "rpi")
    assert can_run("armv7hf", "rpi") and not can_run("armv7hf", "aarch64")
    assert not can_run("rpi", "armv7hf") and not can_run("amd64", "aarch64") and not can_run("aarch64", "amd64")


async def test_moving_lets_go_of_the_old_fleets_installs(world, fleet):
    target = (await world.fleet("target"))["id"]
    release = (await world.release(fleet))["id"]
    old_service = (await world.post("/service", {"application": fleet, "service_name": "main"}))["id"]
    new_service = (await world.post("/service", {"application": target, "service_name": "main"}))["id"]
    image = (await world.post("/image", {"start_timestamp": START, "is_a_build_of__service": old_service,
                                         "is_stored_at__image_location": "registry/v2/x", "status": "success"}))["id"]
    device = (await world.device(fleet))["id"]
    old_install = (await world.post("/service_install", {"device": device, "installs__service": old_service}))["id"]
    await world.post("/device_service_environment_variable", {"service_install": old_install, "name": "A", "value": "1"})
    await world.post("/service_install", {"device": device, "installs__service": new_service})
    await world.post("/image_install", {"device": device, "installs__image": image, "install_date": START,
                                        "status": "Running", "download_progress": 50,
                                        "is_provided_by__release": release})
    await world.patch(f"/device({device})", {"belongs_to__application": target})
    installs = await world.d(f"/service_install?$filter=device eq {device}&$select=installs__service")
    assert installs == [{"installs__service": {"__id": new_service}}]
    assert await world.d("/device_service_environment_variable/$count") == 0
    assert await world.one("/image_install?$select=status,download_progress") == {
        "status": "deleted", "download_progress": None}


async def test_delete_takes_what_hangs_off_the_device(world, fleet):
    device = (await world.device(fleet))["id"]
    service = (await world.post("/service", {"application": fleet, "service_name": "main"}))["id"]
    install = (await world.post("/service_install", {"device": device, "installs__service": service}))["id"]
    for url, body in (
        ("/device_tag", {"device": device, "tag_key": "room", "value": "attic"}),
        ("/device_environment_variable", {"device": device, "name": "DEBUG", "value": "1"}),
        ("/device_config_variable", {"device": device, "name": "BALENA_X", "value": "1"}),
        ("/device_service_environment_variable", {"service_install": install, "name": "PORT", "value": "80"}),
        ("/device_history", {"tracks__device": device, "tracks__actor": 1, "is_of__device_type": 1}),
    ):
        await world.post(url, body)
    assert await world.delete(f"/device({device})") == 1
    for resource in ("device", "device_tag", "device_environment_variable", "device_config_variable",
                     "service_install", "device_service_environment_variable"):
        assert await world.d(f"/{resource}/$count") == 0, resource
    history = await world.one("/device_history?$select=tracks__device,end_timestamp")
    assert history["tracks__device"] is None and history["end_timestamp"] is not None
    assert await world.d("/service/$count") == 1  # the fleet's service stays
