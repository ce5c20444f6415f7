"""POST /device/register with a provisioning key, and the supervisor's calls after it
(spec/device-api.md §1, §2, §12)."""

from __future__ import annotations

import uuid as uuidlib

from tests.device.conftest import device_row, register


async def test_register_creates_the_device_and_its_key(client, world):
    device = await register(client, world, supervisor_version="16.4.0", os_version="balenaOS 5.0.0",
                            os_variant="weird", mac_address="aa:bb")
    row = await device_row(world, device.id, "uuid,belongs_to__application,is_of__device_type,api_heartbeat_state,"
                                             "supervisor_version,os_variant,mac_address,device_name,overall_status")
    assert row["uuid"] == device.uuid
    assert row["belongs_to__application"] == {"__id": world.fleet}
    assert row["api_heartbeat_state"] == "unknown"
    assert row["supervisor_version"] == "16.4.0" and row["os_variant"] is None and row["mac_address"] == "aa:bb"
    assert row["device_name"]
    assert row["overall_status"] == "configuring"
    who = await client.get("/actor/v1/whoami", headers=device.headers)
    assert who.json()["actorType"] == "device" and who.json()["uuid"] == device.uuid


async def test_register_answers_as_the_reference(client, world):
    uuid = uuidlib.uuid4().hex
    auth = {"Authorization": f"Bearer {world.provisioning_key}"}
    body = {"application": world.fleet, "device_type": "raspberrypi4-64", "uuid": uuid, "api_key": "K" * 32}
    assert (await client.post("/device/register", json=body)).status_code == 401
    assert (await client.post("/device/register", json=body, headers=world.alice.headers)).json() == {
        "error": "API key required"}
    r = await client.post(f"/device/register?apikey={world.provisioning_key}", json=body)
    assert r.status_code == 201 and r.json()["api_key"] == "K" * 32
    again = await client.post("/device/register", json=body, headers=auth)
    assert again.status_code == 409 and again.text == '"uuid" must be unique.'
    assert again.headers["content-type"].startswith("text/html")
    same_key = await client.post("/device/register", json={**body, "uuid": uuidlib.uuid4().hex}, headers=auth)
    assert same_key.status_code == 409 and same_key.json() == '"key" must be unique.'
    for change, status, message in (
        ({"device_type": None}, 400, "Device type must be specified"),
        ({"device_type": "no-such-board"}, 404, "Unknown device type no-such-board"),
        ({"uuid": "ABC"}, 400, "Device UUID must be a 32 or 62 character long lower case hex string."),
        ({"application": "x"}, 400, "Application ID must be a valid integer"),
        ({"user": "bob"}, 400, "User ID must be a valid integer"),
    ):
        r = await client.post("/device/register", json={**body, "uuid": uuidlib.uuid4().hex, "api_key": None,
                                                         **change}, headers=auth)
        assert (r.status_code, r.json()) == (status, message), change
    r = await client.post("/device/register", json={**body, "uuid": uuidlib.uuid4().hex, "api_key": 5}, headers=auth)
    assert (r.status_code, r.text) == (400, "")


async def test_a_provisioning_key_registers_into_its_own_fleet_only(client, world):
    other = await world.engine.post("/application", {"organization": world.bob.organization, "app_name": "bobs",
                                                      "is_for__device_type": world.device_type},
                                    __import__("fleetyard.odata.permissions", fromlist=["x"]).Permissions.all(),
                                    {"__ACTOR_ID": world.bob.actor})
    r = await client.post("/device/register", headers={"Authorization": f"Bearer {world.provisioning_key}"},
                          json={"application": other["id"], "device_type": "raspberrypi4-64",
                                "uuid": uuidlib.uuid4().hex})
    assert r.status_code == 401
    assert await world.d(f"/device?$filter=belongs_to__application eq {other['id']}") == []


async def test_the_supervisor_calls_after_registering(client, world):
    """§12: with its own key the device finds itself, its tags, its fleet and releases,
    renames itself, pins a preloaded release and reports config variables."""
    device = await register(client, world)
    h = device.headers
    r = await client.get(f"/v7/device?$select=id&$filter=uuid eq '{device.uuid}'", headers=h)
    assert r.json() == {"d": [{"id": device.id}]}
    assert (await client.get(f"/v7/device_tag?$select=id,tag_key,value&$filter=device eq {device.id}",
                             headers=h)).json() == {"d": []}
    assert (await client.patch(f"/v7/device({device.id})", json={"device_name": "renamed"}, headers=h)).status_code == 200
    r = await client.get(f"/v7/release?$filter=belongs_to__application eq {world.fleet} and commit eq "
                         f"'{world.commit}' and status eq 'success'&$select=id", headers=h)
    assert r.json() == {"d": [{"id": world.release}]}
    assert (await client.patch(f"/v7/device({device.id})", json={"is_pinned_on__release": world.release},
                               headers=h)).status_code == 200
    r = await client.post("/v7/device_config_variable", headers=h,
                          json={"device": device.id, "name": "RESIN_SUPERVISOR_POLL_INTERVAL", "value": "900000"})
    assert r.status_code == 201, r.text
    assert (await client.get(f"/v7/application({world.fleet})?$select=uuid", headers=h)).json() == {
        "d": [{"uuid": world.fleet_uuid}]}
    # Someone else's device and the user's organization stay out of reach.
    other = await register(client, world)
    assert (await client.get(f"/v7/device({other.id})", headers=h)).json() == {"d": []}
    assert (await client.patch(f"/v7/device({other.id})", json={"device_name": "x"}, headers=h)).status_code in (200, 401)
    assert (await device_row(world, other.id, "device_name"))["device_name"] != "x"
    assert (await client.get("/v7/organization", headers=h)).status_code == 401


async def test_key_exchange(client, world):
    device = await register(client, world)
    h = device.headers
    r = await client.post(f"/api-key/device/{device.id}/device-key", json={"apiKey": device.key}, headers=h)
    assert (r.status_code, r.json()) == (200, device.key)
    r = await client.post(f"/api-key/device/{device.id}/device-key", json={}, headers=h)
    assert r.status_code == 200 and isinstance(r.json(), str)
    assert (await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {r.json()}"})).json()["uuid"] == device.uuid
    assert (await client.post("/api-key/device/abc/device-key", json={}, headers=h)).status_code == 400
    assert (await client.post(f"/api-key/device/{device.id}/device-key", json={})).status_code == 401
    r = await client.post(f"/api-key/device/{device.id}/device-key", json={}, headers=world.alice.headers)
    assert r.status_code == 200
    r = await client.post(f"/api-key/device/{device.id}/device-key", json={}, headers=world.bob.headers)
    assert r.status_code == 404


async def test_image_installs_are_never_deleted_by_the_device(client, world):
    device = await register(client, world)
    r = await client.post("/v7/image_install", headers=device.headers, json={
        "device": device.id, "installs__image": world.image, "install_date": "2024-05-01T10:00:00Z",
        "status": "Running", "is_provided_by__release": world.release})
    assert r.status_code == 201, r.text
    install = r.json()["id"]
    assert (await client.patch(f"/v7/image_install({install})", json={"status": "Stopped"},
                               headers=device.headers)).status_code == 200
    assert (await client.delete(f"/v7/image_install({install})", headers=device.headers)).status_code == 401
    assert await world.d(f"/image_install({install})?$select=id")


async def test_os_and_supervisor_versions_pick_their_targets(client, world):
    """§4.9: the OS version a device reports targets its host-OS fleet's release; its first
    supervisor version the matching release of the public supervisor fleet of its arch."""
    from fleetyard.catalogue.host_os import OS_VERSION

    os_version = "balenaOS {}.{}.{}".format(*OS_VERSION)
    org = (await world.one("/organization?$filter=handle eq 'balena_os'&$select=id"))["id"]
    supervisors = await world.post("/application", {"organization": org, "app_name": "aarch64-supervisor",
                                                    "is_for__device_type": world.device_type, "is_public": True})
    supervisor = await world.post("/release", {
        "belongs_to__application": supervisors["id"], "commit": "5" * 32, "composition": {}, "status": "success",
        "source": "cloud", "start_timestamp": "2024-05-01T10:00:00Z", "semver": "16.4.0", "is_final": True})
    device = await register(client, world, os_version=os_version, os_variant="prod", supervisor_version="16.4.0")
    row = await device_row(world, device.id, "should_be_operated_by__release,should_be_managed_by__release")
    assert row["should_be_managed_by__release"] == {"__id": supervisor["id"]}
    host = row["should_be_operated_by__release"]
    assert host is not None
    apps = (await client.get(f"/device/v3/{device.uuid}/state", headers=device.headers)).json()[device.uuid]["apps"]
    assert [a["is_host"] for a in apps.values()] == [False, True, False]  # supervisor, host OS, fleet
    host_app = list(apps.values())[1]
    assert host_app["releases"] and list(apps)[2] == world.fleet_uuid
    # A report of a version no release has changes nothing; a device without targets gets them from reports.
    await client.patch("/device/v3/state", headers=device.headers, json={device.uuid: {"os_version": "balenaOS 1.0.0"}})
    assert (await device_row(world, device.id, "should_be_operated_by__release"))["should_be_operated_by__release"] == host
    late = await register(client, world)
    await client.patch("/device/v3/state", headers=late.headers,
                       json={late.uuid: {"os_version": os_version, "supervisor_version": "16.4.0"}})
    row = await device_row(world, late.id, "should_be_operated_by__release,should_be_managed_by__release")
    assert row == {"should_be_operated_by__release": host, "should_be_managed_by__release": {"__id": supervisor["id"]}}


async def test_device_type_manifests(client, world):
    r = await client.get("/device-types/v1")
    assert r.status_code == 200
    pi = next(m for m in r.json() if m["slug"] == "raspberrypi4-64")
    assert pi["name"] == "Raspberry Pi 4 (using 64bit OS)" and pi["arch"] == "aarch64"
    assert isinstance(pi["options"], list) and pi["buildId"]
    one = await client.get("/device-types/v1/raspberrypi4-64", headers=world.alice.headers)
    assert one.json() == pi
    assert (await client.get("/device-types/v1/no-such")).json() == "Unknown device type no-such"
    assert (await client.get("/device-types/v1/a.b")).status_code == 400
