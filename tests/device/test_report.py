"""PATCH /device/v3/state and /device/v2/:uuid/state: current-state reports
(device-api.md §4)."""

from __future__ import annotations

from tests.device.conftest import register


def report(w, device, services: dict, **fields) -> dict:
    return {device.uuid: {**fields, "apps": {w.fleet_uuid: {"release_uuid": w.commit, "releases": {
        w.commit: {"update_status": fields.pop("update_status", "done"), "services": services}}}}}}


async def test_a_report_updates_fields_release_and_installs(client, world):
    device = await register(client, world)
    body = report(world, device, {"main": {"image": f"{world.image_location}@sha256:abc", "status": "Running"}},
                  status="Idle", is_online=True, os_version="balenaOS 2.0.0+rev5 (dev)", supervisor_version="x" * 30,
                  ip_address="10.0.0.1 10.0.0.2", cpu_id="ABC", os_variant="strange", memory_usage=2**40,
                  api_port=48484, is_undervolted=False)
    r = await client.patch("/device/v3/state", headers=device.headers, json=body)
    assert (r.status_code, r.content) == (200, b"")
    row = await world.one(f"/device({device.id})?$select=status,is_online,os_version,os_variant,supervisor_version,"
                          "ip_address,cpu_id,memory_usage,api_port,is_running__release,update_status,"
                          "last_update_status_event,last_connectivity_event")
    assert row["status"] == "Idle" and row["is_online"] is True and row["os_variant"] == "dev"
    assert row["supervisor_version"] == "x" * 20 and row["cpu_id"] == "abc" and row["api_port"] == 48484
    assert row["memory_usage"] == 2**31 - 1
    assert row["is_running__release"] == {"__id": world.release}
    assert row["update_status"] == "done" and row["last_update_status_event"] and row["last_connectivity_event"]
    (install,) = await world.d(f"/image_install?$filter=device eq {device.id}&$select=installs__image,status,"
                               "is_provided_by__release,download_progress")
    assert install == {"installs__image": {"__id": world.image}, "status": "Running",
                       "is_provided_by__release": {"__id": world.release}, "download_progress": None}


async def test_an_unchanged_report_writes_nothing(client, world):
    device = await register(client, world)
    body = {device.uuid: {"status": "Idle", "ip_address": "10.0.0.1"}}
    await client.patch("/device/v3/state", headers=device.headers, json=body)
    before = await world.one(f"/device({device.id})?$select=modified_at")
    await client.patch("/device/v3/state", headers=device.headers, json=body)
    assert await world.one(f"/device({device.id})?$select=modified_at") == before


async def test_update_status_takes_the_lowest(client, world):
    device = await register(client, world)
    _, image, location = await world.new_release("d" * 32)
    body = {device.uuid: {"apps": {world.fleet_uuid: {"releases": {
        world.commit: {"update_status": "done", "services": {"main": {"image": world.image_location}}},
        "d" * 32: {"update_status": "downloading", "services": {
            "main": {"image": location, "status": "Downloading", "download_progress": 10}}}}}}}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=body)).status_code == 200
    assert (await world.one(f"/device({device.id})?$select=update_status"))["update_status"] == "downloading"
    installs = {i["installs__image"]["__id"]: (i["status"], i["download_progress"]) for i in await world.d(
        f"/image_install?$filter=device eq {device.id}&$select=installs__image,status,download_progress")}
    assert installs == {world.image: ("Unknown", None), image: ("Downloading", 10)}
    # Reported no more: deleted.
    only_new = {device.uuid: {"apps": {world.fleet_uuid: {"releases": {"d" * 32: {"services": {
        "main": {"image": location, "status": "Running", "download_progress": 100}}}}}}}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=only_new)).status_code == 200
    installs = {i["installs__image"]["__id"]: (i["status"], i["download_progress"]) for i in await world.d(
        f"/image_install?$filter=device eq {device.id}&$select=installs__image,status,download_progress")}
    assert installs == {world.image: ("deleted", None), image: ("Running", 100)}


async def test_reports_are_refused_as_the_reference_does(client, world):
    device = await register(client, world)
    other = await register(client, world)
    ok = {device.uuid: {"status": "Idle"}}
    assert (await client.patch("/device/v3/state", headers=world.alice.headers, json=ok)).json() == {
        "error": "API key required"}
    assert (await client.patch("/device/v3/state", headers=other.headers, json=ok)).status_code == 401
    assert (await client.patch("/device/v3/state", headers=device.headers, json={})).status_code == 401
    unknown = {"f" * 32: {"status": "Idle"}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=unknown)).status_code == 401
    bad_type = {device.uuid: {"status": 5}}
    r = await client.patch("/device/v3/state", headers=device.headers, json=bad_type)
    assert (r.status_code, r.content) == (400, b"")
    bad_release = report(world, device, {"main": {"image": world.image_location}})
    bad_release[device.uuid]["apps"][world.fleet_uuid]["releases"] = {"e" * 32: {"services": {}}}
    assert (await client.patch("/device/v3/state", headers=device.headers, json=bad_release)).status_code == 401
    bad_image = report(world, device, {"main": {"image": "registry.example/v2/nope"}})
    assert (await client.patch("/device/v3/state", headers=device.headers, json=bad_image)).status_code == 401
    assert await world.d(f"/image_install?$filter=device eq {device.id}") == []


async def test_v2_report(client, world):
    device = await register(client, world)
    body = {"local": {"name": "kitchen", "note": "hi", "is_on__commit": world.commit, "api_port": "48484",
                      "should_be_running__release": world.release,
                      "apps": {str(world.fleet): {"services": {str(world.image): {
                          "releaseId": world.release, "status": "Downloading", "download_progress": 5}}}}}}
    r = await client.patch(f"/device/v2/{device.uuid}/state", headers=device.headers, json=body)
    assert r.status_code == 200, r.text
    row = await world.one(f"/device({device.id})?$select=device_name,note,api_port,is_running__release,"
                          "is_pinned_on__release")
    assert row == {"device_name": "kitchen", "note": "hi", "api_port": 48484,
                   "is_running__release": {"__id": world.release}, "is_pinned_on__release": {"__id": world.release}}
    (install,) = await world.d(f"/image_install?$filter=device eq {device.id}&$select=status,download_progress")
    assert install == {"status": "Downloading", "download_progress": 5}
    assert (await client.patch("/device/v2/" + "f" * 32 + "/state", headers=device.headers,
                               json=body)).status_code == 200  # a deleted device: a no-op


async def test_tags(client, world):
    device = await register(client, world)
    url = "/device/v3/tags"
    r = await client.patch(url, headers=device.headers, json={device.uuid: {"room": "kitchen", "floor": "1"}})
    assert (r.status_code, r.content) == (200, b"")
    r = await client.patch(url, headers=device.headers, json={device.uuid: {"room": "attic"}})
    tags = {t["tag_key"]: t["value"] for t in await world.d(f"/device_tag?$filter=device eq {device.id}")}
    assert tags == {"room": "attic", "floor": "1"}  # changed, never deleted
    assert (await client.patch(url, headers=device.headers, json={device.uuid: {}})).json() == \
        "No tags were sent to be updated."
    for bad in ({"a b": "x"}, {"io.balena.x": "1"}, {"ok": 1}):
        r = await client.patch(url, headers=device.headers, json={device.uuid: bad})
        assert (r.status_code, r.content) == (400, b""), bad
    assert (await client.patch(url, headers=device.headers, json={"f" * 32: {"a": "b"}})).status_code == 401
