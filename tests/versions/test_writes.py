"""Writes through one version are what the other reads, and v6's write rules (spec/versions.md
§5.4, decisions.md "Versions"): pins, release types, contracts, image sizes, supervisor
releases, device-type aliases, the refused removed links and the read-only v6 resources."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.versions.v6_writes import RELEASE_TYPE
from tests.auth.conftest import START


async def one(client, url: str) -> dict:
    r = await client.get(url)
    assert r.status_code == 200, r.text
    (row,) = r.json()["d"]
    return row


async def ok(r) -> None:
    assert (r.status_code, r.content) == (200, b'"OK"'), r.text
    assert r.headers["content-type"].startswith("application/json")


async def test_a_pin_written_in_either_version_is_read_in_the_other(client, world):
    ids = world.ids
    device, first, latest = ids["online"], ids["release"], ids["latest"]
    await ok(await client.patch(f"/v6/device({device})", json={"should_be_running__release": first}))
    assert (await one(client, f"/v7/device({device})?$select=is_pinned_on__release,should_be_running__release")) == {
        "is_pinned_on__release": {"__id": first}, "should_be_running__release": {"__id": first}}
    r = await client.patch(f"/v7/device({device})", json={"is_pinned_on__release": None})
    assert (r.status_code, r.content) == (200, b"")
    # tracking: v6 shows no pin, v7 the fleet's target
    assert (await one(client, f"/v6/device({device})?$select=should_be_running__release")) == {
        "should_be_running__release": None}
    assert (await one(client, f"/v7/device({device})?$select=should_be_running__release")) == {
        "should_be_running__release": {"__id": latest}}
    # v6 navigates and filters by the pin
    r = await client.get(f"/v6/device?$select=id&$filter=should_be_running__release eq {first}")
    assert r.json()["d"] == [{"id": ids["pinned"]}]
    r = await client.get(f"/v6/device({ids['pinned']})?$select=id&$expand=should_be_running__release($select=id)")
    assert r.json()["d"] == [{"should_be_running__release": [{"id": first}], "id": ids["pinned"]}]


async def test_a_v6_pin_obeys_the_v7_rules(client, world):
    r = await client.patch(f"/v6/device({world.ids['online']})",
                           json={"should_be_running__release": world.ids["supervisor"]})
    assert r.status_code == 400 and "pinned to a device" in r.json()
    assert (await one(client, f"/v7/device({world.ids['online']})?$select=is_pinned_on__release")) == {
        "is_pinned_on__release": None}


async def test_release_type_and_is_final_in_both_directions(client, world):
    fleet = world.ids["fleet"]
    created = (await client.post("/v6/release", json={
        "belongs_to__application": fleet, "commit": "v6draft", "composition": {}, "status": "success",
        "source": "cloud", "start_timestamp": START, "release_type": "draft"})).json()
    assert created["release_type"] == "draft" and created["is_final"] is False
    assert (await one(client, f"/v7/release({created['id']})?$select=is_final")) == {"is_final": False}
    r = await client.patch(f"/v7/release({created['id']})", json={"is_final": True})
    assert r.status_code == 200
    assert (await one(client, f"/v6/release({created['id']})?$select=release_type")) == {"release_type": "final"}
    r = await client.post("/v6/release", json={
        "belongs_to__application": fleet, "commit": "v6bad", "composition": {}, "status": "success",
        "source": "cloud", "start_timestamp": START, "release_type": "Final"})
    assert (r.status_code, r.json()) == (400, RELEASE_TYPE)


async def test_contract_is_text_in_v6_and_json_in_v7(client, world):
    release = world.ids["release"]
    contract = {"type": "sw.application", "slug": "alice"}
    await ok(await client.patch(f"/v6/release({release})", json={"contract": orjson.dumps(contract).decode()}))
    assert (await one(client, f"/v7/release({release})?$select=contract")) == {"contract": contract}
    r = await client.patch(f"/v7/release({release})", json={"contract": {"version": 2}})
    assert r.status_code == 200
    row = await one(client, f"/v6/release({release})?$select=contract")
    assert isinstance(row["contract"], str) and orjson.loads(row["contract"]) == {"version": 2}
    r = await client.patch(f"/v6/release({release})", json={"contract": "not json"})
    assert r.status_code == 400  # v6 keeps unparsable text; a JSON column cannot


async def test_image_size_is_a_number_in_v6_and_a_string_in_v7(client, world):
    image = world.ids["image"]
    await ok(await client.patch(f"/v6/image({image})", json={"image_size": 5_000_000_000}))
    assert (await one(client, f"/v7/image({image})?$select=image_size")) == {"image_size": "5000000000"}
    assert (await one(client, f"/v6/image({image})?$select=image_size")) == {"image_size": 5_000_000_000}
    r = await client.get(f"/v6/image?$select=id&$filter=image_size gt 4000000000 and id eq {image}")
    assert r.json()["d"] == [{"id": image}]


async def test_the_supervisor_release_in_both_directions(client, world):
    device, supervisor = world.ids["online"], world.ids["supervisor"]
    r = await client.patch(f"/v7/device({device})", json={"should_be_managed_by__release": supervisor})
    assert r.status_code == 200
    row = await one(client, f"/v6/device({device})?$select=id&$expand=should_be_managed_by__supervisor_release"
                            "($select=supervisor_version)")
    assert row["should_be_managed_by__supervisor_release"] == [{"supervisor_version": "14.11.2"}]
    (sr,) = (await client.get(f"/v6/supervisor_release({supervisor})?$select=id"
                              "&$expand=should_manage__device($select=id)")).json()["d"]
    assert sr["should_manage__device"] == [{"id": device}]
    await ok(await client.patch(f"/v6/device({device})", json={"should_be_managed_by__supervisor_release": None}))
    assert (await one(client, f"/v7/device({device})?$select=should_be_managed_by__release")) == {
        "should_be_managed_by__release": None}
    # only the supervisor fleets' releases are supervisor releases
    r = await client.get(f"/v6/supervisor_release({world.ids['release']})")
    assert r.json() == {"d": []}


async def test_device_type_aliases_and_an_explicit_id(client, world, engine_alias):
    alias, device_type = engine_alias
    created = (await client.post("/v6/device", json={"belongs_to__application": world.ids["fleet"],
                                                     "device_type": alias})).json()
    assert created["is_of__device_type"] == {"__id": device_type}
    created = (await client.post("/v6/device", json={"belongs_to__application": world.ids["fleet"],
                                                     "is_of__device_type": device_type,
                                                     "device_type": "ignored-when-the-id-is-given"})).json()
    assert created["is_of__device_type"] == {"__id": device_type}


@pytest.fixture
async def engine_alias(world) -> tuple[str, int]:
    rows = await world.d(f"/device_type_alias?$select=is_referenced_by__alias"
                         f"&$filter=device_type eq {world.ids['device_type']}")
    if rows:
        return rows[0]["is_referenced_by__alias"], world.ids["device_type"]
    await world.post("/device_type_alias", {"device_type": world.ids["device_type"],
                                            "is_referenced_by__alias": "an-old-name"})
    return "an-old-name", world.ids["device_type"]


@pytest.mark.parametrize(("resource", "key", "field", "other"), [
    ("application", "fleet", "depends_on__application", {"is_discoverable": True}),
    ("device", "device", "is_managed_by__device", {"note": "x"}),
])
async def test_removed_links_refuse_a_value_and_take_null(client, world, resource, key, field, other):
    url = f"/v6/{resource}({world.ids[key]})"
    r = await client.patch(url, json={field: world.ids[key], **other})
    assert (r.status_code, r.content) == (400, b"")  # §5.4: an empty 400
    await ok(await client.patch(url, json={field: None, **other}))


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/v6/my_application"), ("PATCH", "/v6/my_application({fleet})"), ("DELETE", "/v6/my_application"),
    ("POST", "/v6/supervisor_release"), ("PATCH", "/v6/gateway_download"),
])
async def test_v6_only_resources_are_read_only(client, world, method, url):
    body = None if method == "DELETE" else {"app_name": "renamed"}
    r = await client.request(method, url.format(**world.ids), json=body)
    assert r.status_code == 401, r.text
    assert (await one(client, f"/v7/application({world.ids['fleet']})?$select=app_name")) == {"app_name": "fleet"}


async def test_a_move_in_v6_clears_the_pin_as_in_v7(client, world):
    other = (await client.post("/v6/application", json={"app_name": "second", "device_type": "raspberrypi4-64"}))
    assert other.status_code == 201, other.text
    await ok(await client.patch(f"/v6/device({world.ids['pinned']})",
                                json={"belongs_to__application": other.json()["id"]}))
    assert (await one(client, f"/v6/device({world.ids['pinned']})?$select=should_be_running__release")) == {
        "should_be_running__release": None}


@pytest.mark.parametrize("prefix", ["/v1", "/v3", "/v5", "/resin"])
async def test_other_prefixes_are_404s_naming_the_served_versions(client, prefix):
    r = await client.get(f"{prefix}/device")
    assert r.status_code == 404 and "/v7/" in r.json() and "/v6/" in r.json()
