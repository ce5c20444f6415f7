"""Fleet rules on both databases: required fields, server-set values (actor, uuid, slug,
tracking, defaults), the slug kept in step, the device-type rule, and the delete's
404 and cascade (spec/model.md §2, decisions.md)."""

from __future__ import annotations

import re

import pytest

from fleetyard.domain.common import NotVisible, RuleViolation
from fleetyard.domain.fleets import APP_NAME_LENGTH, SAME_ARCH, UUID_MESSAGE
from fleetyard.errors import ConstraintError
from tests.domain.conftest import ALL, CTX, START


async def test_post_needs_organization_name_and_device_type(world):
    with pytest.raises(RuleViolation) as e:
        await world.post("/application", {})
    assert e.value.status == 400 and e.value.code == "domain.rule"
    assert e.value.message == '"organization", "app_name" and "is_for__device_type" are required to create a fleet'
    with pytest.raises(RuleViolation, match='^"organization" is required to create a fleet$'):
        await world.post("/application", {"app_name": "fleet1", "is_for__device_type": 1,
                                           "device_type": "raspberrypi4-64"})  # v6's key: ignored
    assert await world.d("/application/$count") == 0


async def test_post_fills_in_what_the_server_owns(world):
    fleet = await world.fleet("MyFleet", should_track_latest_release=False, actor=99, slug="x/y")
    assert fleet["slug"] == "acme/myfleet"
    assert fleet["should_track_latest_release"] is True  # forced, whatever was sent
    assert re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", fleet["uuid"])
    assert (fleet["is_of__class"], fleet["is_public"], fleet["is_host"], fleet["is_archived"],
            fleet["is_discoverable"]) == ("fleet", False, False, False, False)
    assert fleet["should_be_running__release"] is None
    default = await world.one("/application_type?$filter=slug eq 'default'&$select=id")
    assert fleet["application_type"] == {"__id": default["id"]}


async def test_an_actor_row_per_fleet(world):
    a = await world.fleet("first")
    b = await world.fleet("second")
    assert a["actor"] != b["actor"]
    actors = await world.d(f"/actor?$filter=id in ({a['actor']['__id']},{b['actor']['__id']})&$expand=is_of__application($select=id)")
    assert sorted(x["is_of__application"][0]["id"] for x in actors) == [a["id"], b["id"]]


async def test_values_as_strings_are_taken(world):
    fleet = await world.post("/application", {"app_name": "strings", "organization": "2", "is_for__device_type": "3",
                                              "is_public": "true"})
    assert fleet["slug"] == "other/strings" and fleet["is_public"] is True


@pytest.mark.parametrize("name, message", [
    ("my fleet", "App name may only contain [a-zA-Z0-9_-]."),
    ("fleet/1", "App name may only contain [a-zA-Z0-9_-]."),
    ("", "App name may only contain [a-zA-Z0-9_-]."),
    ("abc", APP_NAME_LENGTH),
    ("a" * 101, APP_NAME_LENGTH),
])
async def test_app_name_validation(world, name, message):
    with pytest.raises(RuleViolation) as e:
        await world.fleet(name)
    assert e.value.message == message
    ok = await world.fleet("Good_name-1")
    with pytest.raises(RuleViolation, match=re.escape(message)):
        await world.patch(f"/application({ok['id']})", {"app_name": name})


async def test_names_are_unique_per_organization_ignoring_case(world):
    await world.fleet("Fleet")
    with pytest.raises(ConstraintError) as e:
        await world.fleet("FLEET")
    assert (e.value.status, e.value.message) == (409, '"slug" must be unique.')
    assert (await world.fleet("fleet", organization=2))["slug"] == "other/fleet"


async def test_uuid_given_is_validated(world):
    given = "0f0f0f0f" "0f0f" "4abc" "8def" "0123456789ab"  # 8-4-4-4-12, version 4
    assert (await world.fleet("given", uuid=given))["uuid"] == given
    with pytest.raises(ConstraintError, match='"uuid" must be unique.'):
        await world.fleet("again", uuid=given)
    assert (await world.fleet("upper", uuid=given.upper()[:-1] + "1"))["uuid"] == given.upper()[:-1] + "1"
    for bad in ("0" * 32, given[:31], given + "0", given[:12] + "1" + given[13:], "z" * 32, 42):
        with pytest.raises(RuleViolation) as e:
            await world.fleet("bad_uuid", uuid=bad)
        assert e.value.message == UUID_MESSAGE


async def test_an_organization_the_caller_cannot_see_has_no_handle(world):
    with pytest.raises(RuleViolation, match="^Missing organization handle$"):
        await world.fleet("nowhere", organization=99)


async def test_rename_keeps_the_slug_in_step(world):
    fleet = await world.fleet("Before")
    await world.patch(f"/application({fleet['id']})", {"app_name": "After_Rename"})
    assert (await world.one(f"/application({fleet['id']})?$select=slug"))["slug"] == "acme/after_rename"
    # a slug sent directly is not taken: it always follows the name and the handle
    await world.patch(f"/application({fleet['id']})", {"slug": "acme/elsewhere"})
    assert (await world.one(f"/application({fleet['id']})?$select=slug"))["slug"] == "acme/after_rename"
    await world.patch(f"/application({fleet['id']})", {"organization": 2})
    assert (await world.one(f"/application({fleet['id']})?$select=slug"))["slug"] == "other/after_rename"


async def test_a_new_handle_renames_the_organizations_slugs(world):
    a = await world.fleet("first")
    b = await world.fleet("second")
    c = await world.fleet("third", organization=2)
    await world.patch("/organization(1)", {"handle": "acme_corp"})
    rows = await world.d(f"/application?$filter=id in ({a['id']},{b['id']},{c['id']})&$select=slug&$orderby=id asc")
    assert [r["slug"] for r in rows] == ["acme_corp/first", "acme_corp/second", "other/third"]


async def test_a_rename_onto_a_taken_slug_is_a_conflict_and_rolls_back(world):
    await world.fleet("taken")
    fleet = await world.fleet("free")
    with pytest.raises(ConstraintError, match='"slug" must be unique.'):
        await world.patch(f"/application({fleet['id']})", {"app_name": "TAKEN"})
    assert (await world.one(f"/application({fleet['id']})?$select=app_name,slug")) == {
        "app_name": "free", "slug": "acme/free"}


async def test_default_device_type_keeps_its_architecture(world):
    fleet = await world.fleet("arm64", device_type=1)
    await world.patch(f"/application({fleet['id']})", {"is_for__device_type": 5})  # aarch64 too
    with pytest.raises(RuleViolation) as e:
        await world.patch(f"/application({fleet['id']})", {"is_for__device_type": 3})  # amd64
    assert e.value.message == SAME_ARCH
    assert (await world.one(f"/application({fleet['id']})?$select=is_for__device_type"))[
        "is_for__device_type"] == {"__id": 5}


async def test_delete_by_key_of_nothing_is_404_by_filter_200(world):
    with pytest.raises(NotVisible) as e:
        await world.delete("/application(99)")
    assert (e.value.status, e.value.message) == (404, "Application(s) not found.")
    assert await world.delete("/application?$filter=id eq 99") == 0


async def test_delete_cascades_and_unpins_first(world):
    fleet = (await world.fleet("doomed"))["id"]
    keep = (await world.fleet("keeper"))["id"]
    r1 = (await world.release(fleet, semver="1.0.0"))["id"]
    assert await world.target(fleet) == r1  # tracking: the fleet and its release point at each other
    draft = (await world.release(fleet, is_final=False))["id"]
    dev = (await world.device(fleet, is_pinned_on__release=r1, is_running__release=r1))["id"]
    other = (await world.device(keep, is_running__release=r1))["id"]  # elsewhere, only running it
    service = (await world.post("/service", {"application": fleet, "service_name": "main"}))["id"]
    image = (await world.post("/image", {"start_timestamp": START, "is_a_build_of__service": service,
                                         "is_stored_at__image_location": "registry/v2/abc", "status": "success"}))["id"]
    link = (await world.post("/release_image", {"image": image, "is_part_of__release": r1}))["id"]
    install = (await world.post("/service_install", {"device": dev, "installs__service": service}))["id"]
    for url, body in (
        ("/image_label", {"release_image": link, "label_name": "l", "value": "v"}),
        ("/image_environment_variable", {"release_image": link, "name": "N", "value": "v"}),
        ("/image_install", {"device": dev, "installs__image": image, "install_date": START, "status": "Running",
                            "is_provided_by__release": r1}),
        ("/device_service_environment_variable", {"service_install": install, "name": "PORT", "value": "80"}),
        ("/service_label", {"service": service, "label_name": "l", "value": "v"}),
        ("/service_environment_variable", {"service": service, "name": "N", "value": "v"}),
        ("/device_tag", {"device": dev, "tag_key": "room", "value": "attic"}),
        ("/device_environment_variable", {"device": dev, "name": "DEBUG", "value": "1"}),
        ("/device_config_variable", {"device": dev, "name": "BALENA_X", "value": "1"}),
        ("/application_tag", {"application": fleet, "tag_key": "team", "value": "core"}),
        ("/application_environment_variable", {"application": fleet, "name": "LEVEL", "value": "3"}),
        ("/application_config_variable", {"application": fleet, "name": "BALENA_Y", "value": "1"}),
        ("/build_environment_variable", {"application": fleet, "name": "TOKEN", "value": "t"}),
        ("/release_tag", {"release": r1, "tag_key": "notes", "value": "first"}),
        ("/release_asset", {"release": draft, "asset_key": "sbom.json"}),
        ("/device_history", {"tracks__device": dev, "tracks__actor": 1, "belongs_to__application": fleet,
                             "is_of__device_type": 1, "is_running__release": r1, "is_pinned_on__release": r1}),
    ):
        await world.post(url, body)

    assert await world.delete(f"/application({fleet})") == 1

    for resource in ("device_tag", "device_environment_variable", "device_config_variable", "image_install",
                     "service_install", "device_service_environment_variable", "service", "service_label",
                     "service_environment_variable", "image", "release_image", "image_label",
                     "image_environment_variable", "release", "release_tag", "release_asset", "application_tag",
                     "application_environment_variable", "application_config_variable",
                     "build_environment_variable"):
        assert await world.d(f"/{resource}/$count") == 0, resource
    assert [d["id"] for d in await world.d("/device?$select=id")] == [other]
    assert (await world.one(f"/device({other})?$select=is_running__release"))["is_running__release"] is None
    history = await world.one("/device_history?$select=tracks__device,belongs_to__application,end_timestamp,"
                              "is_running__release,is_pinned_on__release")
    assert history["tracks__device"] is None and history["belongs_to__application"] is None
    assert history["is_running__release"] is None and history["is_pinned_on__release"] is None
    assert history["end_timestamp"] is not None  # the device's open entry ended with it
    assert [a["id"] for a in await world.d("/application?$select=id")] == [keep]


async def test_a_failing_cascade_rolls_the_whole_delete_back(world):
    fleet = (await world.fleet("pinned_elsewhere"))["id"]
    rel = (await world.release(fleet))["id"]
    await world.device(fleet, is_pinned_on__release=rel)
    other = (await world.fleet("other_fleet"))["id"]
    # a host-OS style reference from a device of another fleet keeps the release
    await world.device(other, should_be_operated_by__release=rel)
    with pytest.raises(ConstraintError) as e:
        await world.delete(f"/application({fleet})")
    assert e.value.status == 409
    assert await world.d(f"/device/$count?$filter=belongs_to__application eq {fleet}") == 1
    assert await world.target(fleet) == rel


async def test_put_keeps_what_the_server_owns(world):
    """A PUT replaces the fleet: what the body leaves out goes back to its default, except
    what the rules filled in (actor, slug, uuid, application type)."""
    fleet = await world.fleet("replaced", is_archived=True)
    before = await world.one(f"/application({fleet['id']})?$select=actor,slug,uuid,is_archived")
    await world.engine.put(f"/application({fleet['id']})", {
        "app_name": "replaced", "organization": 1, "is_for__device_type": 1}, ALL, CTX)
    after = await world.one(f"/application({fleet['id']})?$select=actor,slug,uuid,is_archived")
    assert {k: after[k] for k in ("actor", "slug", "uuid")} == {k: before[k] for k in ("actor", "slug", "uuid")}
    assert (before["is_archived"], after["is_archived"]) == (True, False)
    device = await world.device(fleet["id"], device_name="kept-name", note="a note")
    was = await world.one(f"/device({device['id']})?$select=actor,uuid,device_name,note")
    await world.engine.put(f"/device({device['id']})", {
        "belongs_to__application": fleet["id"], "is_of__device_type": 1}, ALL, CTX)
    now = await world.one(f"/device({device['id']})?$select=actor,uuid,device_name,note")
    assert now == {**was, "note": None}
