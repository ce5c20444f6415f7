"""GET /device/v3/:uuid/state (and v2, and the fleet's): the complete target state, its
ETag and 304, and the cache dropped by every write that changes it (device-api.md §3)."""

from __future__ import annotations

from tests.device.conftest import Device, register


async def state(client, device, **headers):
    r = await client.get(f"/device/v3/{device.uuid}/state", headers={**device.headers, **headers})
    return r


async def test_the_target_state_merges_every_level(client, world):
    device = await register(client, world)
    await world.post("/application_environment_variable", {"application": world.fleet, "name": "LEVEL", "value": "app"})
    await world.post("/application_environment_variable", {"application": world.fleet, "name": "APP", "value": "1"})
    await world.post("/application_config_variable", {"application": world.fleet, "name": "RESIN_SUPERVISOR_UPDATE_STRATEGY",
                                                      "value": "kill-then-download"})
    await world.post("/application_config_variable", {"application": world.fleet, "name": "RESIN_UI_HIDDEN", "value": "1"})
    await world.post("/application_config_variable", {"application": world.fleet, "name": "RESIN_SUPERVISOR_POLL_INTERVAL",
                                                      "value": "1000"})
    await world.post("/device_config_variable", {"device": device.id, "name": "BALENA_SUPERVISOR_POLL_INTERVAL", "value": "5"})
    await world.post("/device_environment_variable", {"device": device.id, "name": "LEVEL", "value": "device"})
    await world.post("/device_environment_variable", {"device": device.id, "name": "DEV", "value": "1"})
    install = (await world.d(f"/service_install?$filter=device eq {device.id}&$select=id")) or [
        await world.post("/service_install", {"device": device.id, "installs__service": world.service})]
    await world.post("/device_service_environment_variable", {"service_install": install[0]["id"], "name": "ONLY",
                                                              "value": "this device"})
    r = await state(client, device)
    assert r.status_code == 200 and r.headers["etag"]
    body = r.json()
    (name,) = body
    assert name == device.uuid
    me = body[device.uuid]
    row = await world.one(f"/device({device.id})?$select=device_name")
    assert me["name"] == row["device_name"]
    assert me["config"] == {"RESIN_SUPERVISOR_UPDATE_STRATEGY": "kill-then-download",
                            "RESIN_SUPERVISOR_POLL_INTERVAL": "1000", "BALENA_SUPERVISOR_POLL_INTERVAL": "5"}
    app = me["apps"][world.fleet_uuid]
    assert {k: app[k] for k in ("id", "name", "is_host", "class")} == {
        "id": world.fleet, "name": "myfleet", "is_host": False, "class": "fleet"}
    release = app["releases"][world.commit]
    assert release["id"] == world.release and release["volumes"] == {"data": {}}
    main = release["services"]["main"]
    assert main["image"] == f"{world.image_location}@sha256:abc"
    assert main["image_id"] == world.image and main["id"] == world.service
    assert main["environment"] == {"LEVEL": "device", "IMG": "1", "APP": "1", "DEV": "1", "ONLY": "this device"}
    assert main["labels"] == {"io.balena.features.dbus": "1", "io.resin.update.strategy": "kill-then-download"}
    assert main["composition"] == {"restart": "always", "network_mode": "host"}


async def test_poll_interval_is_at_least_the_minimum(client, world):
    device = await register(client, world)
    config = (await state(client, device)).json()[device.uuid]["config"]
    assert config == {"RESIN_SUPERVISOR_POLL_INTERVAL": "300"}  # FAST's minimum


async def test_etag_and_304(client, world):
    device = await register(client, world)
    first = await state(client, device)
    tag = first.headers["etag"]
    again = await state(client, device, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert (await state(client, device, **{"If-None-Match": 'W/"other"'})).status_code == 200


async def test_every_write_that_changes_the_state_changes_the_etag(client, world):
    device = await register(client, world)
    side = client.app.state.devices

    async def tag() -> str:
        return (await state(client, device)).headers["etag"]

    seen = [await tag()]
    builds = side.cache.builds
    assert await tag() == seen[0] and side.cache.builds == builds  # served from the cache

    async def changes(label: str) -> None:
        now = await tag()
        assert now not in seen, label
        seen.append(now)

    var = await world.post("/device_environment_variable", {"device": device.id, "name": "A", "value": "1"})
    await changes("device variable created")
    await world.patch(f"/device_environment_variable({var['id']})", {"value": "2"})
    await changes("device variable changed")
    await world.engine.delete(f"/device_environment_variable({var['id']})", world.engine.hooks and __import__(
        "fleetyard.odata.permissions", fromlist=["x"]).Permissions.all())
    assert await tag() == seen[0]  # back to the first state: the same tag
    fleet_var = await world.post("/application_environment_variable", {"application": world.fleet, "name": "F",
                                                                        "value": "1"})
    await changes("fleet variable")
    await world.post("/application_config_variable", {"application": world.fleet, "name": "RESIN_X", "value": "1"})
    await changes("fleet config variable")
    await world.post("/service_environment_variable", {"service": world.service, "name": "S", "value": "1"})
    await changes("service variable")
    release, _, _ = await world.new_release("b" * 32)
    await world.patch(f"/application({world.fleet})", {"should_be_running__release": release})
    await changes("fleet target release")
    pinned, _, _ = await world.new_release("c" * 32)
    await world.patch(f"/device({device.id})", {"is_pinned_on__release": pinned})
    await changes("device pinned")
    await world.patch(f"/device({device.id})", {"device_name": "renamed"})
    await changes("device renamed")
    await world.patch(f"/application_environment_variable({fleet_var['id']})", {"value": "2"})
    await changes("fleet variable changed")
    # A move to another fleet of alice's.
    other = await world.post("/application", {"organization": world.alice.organization, "app_name": "second",
                                              "is_for__device_type": world.device_type})
    await world.patch(f"/device({device.id})", {"belongs_to__application": other["id"]})
    moved = (await state(client, device)).json()[device.uuid]
    assert list(moved["apps"]) == [other["uuid"]] and "releases" not in moved["apps"][other["uuid"]]
    # A report that changes nothing the state shows keeps the cache.
    builds = side.cache.builds
    r = await client.patch("/device/v3/state", headers=device.headers, json={device.uuid: {"status": "Idle"}})
    assert r.status_code == 200
    await state(client, device)
    assert side.cache.builds == builds
    # Deleted: a graceful 304 (§3.1).
    await world.engine.delete(f"/device({device.id})", __import__(
        "fleetyard.odata.permissions", fromlist=["x"]).Permissions.all())
    gone = await state(client, device)
    assert gone.status_code == 304 and gone.content == b""


async def test_who_may_read_a_state(client, world):
    device = await register(client, world)
    other = await register(client, world)
    assert (await client.get(f"/device/v3/{device.uuid}/state")).status_code == 401
    assert (await client.get(f"/device/v3/{device.uuid}/state", headers=other.headers)).status_code == 401
    assert (await client.get(f"/device/v3/{device.uuid}/state", headers=world.bob.headers)).status_code == 401
    r = await client.get(f"/device/v3/{device.uuid}/state", headers=world.alice.headers)
    assert r.status_code == 200
    # A user's read is no heartbeat.
    assert (await world.one(f"/device({device.id})?$select=api_heartbeat_state"))["api_heartbeat_state"] == "unknown"
    assert (await client.get("/device/v3/" + "f" * 32 + "/state", headers=device.headers)).status_code == 304


async def test_v2_state(client, world):
    device = await register(client, world)
    r = await client.get(f"/device/v2/{device.uuid}/state", headers=device.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["dependent"] == {"apps": {}, "devices": {}}
    local = body["local"]
    app = local["apps"][str(world.fleet)]
    assert app["name"] == "myfleet" and app["commit"] == world.commit and app["releaseId"] == world.release
    service = app["services"][str(world.service)]
    assert service["serviceName"] == "main" and service["imageId"] == world.image and service["running"] is True
    assert service["restart"] == "always" and "build" not in service
    assert service["environment"] == {"LEVEL": "service", "IMG": "1"}
    assert app["volumes"] == {"data": {}} and app["networks"] == {}
    assert local["config"] == {"RESIN_SUPERVISOR_POLL_INTERVAL": "300"}
    again = await client.get(f"/device/v2/{device.uuid}/state",
                             headers={**device.headers, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


async def test_fleet_state(client, world):
    device = await register(client, world)
    await world.post("/device_environment_variable", {"device": device.id, "name": "DEV", "value": "1"})
    r = await client.get(f"/device/v3/fleet/{world.fleet_uuid}/state", headers=device.headers)
    assert r.status_code == 200
    body = r.json()[world.fleet_uuid]
    assert body["name"] == "myfleet"
    main = body["apps"][world.fleet_uuid]["releases"][world.commit]["services"]["main"]
    assert main["environment"] == {"LEVEL": "service", "IMG": "1"}  # no device values
    r = await client.get(f"/device/v3/fleet/{world.fleet_uuid}/state?releaseUuid={world.commit}",
                         headers=world.alice.headers)
    assert r.status_code == 200
    assert (await client.get(f"/device/v3/fleet/{world.fleet_uuid}/state?releaseUuid=nope",
                             headers=world.alice.headers)).status_code == 401
    assert (await client.get(f"/device/v3/fleet/{world.fleet_uuid}/state",
                             headers=world.bob.headers)).status_code == 401


async def test_a_uuid_registered_again_after_a_delete_gets_its_own_state(client, world):
    """The cache knows devices by uuid: a new device with a deleted one's uuid must not
    be served, or kept, under the old device's generations."""
    from fleetyard.odata.permissions import Permissions

    first = await register(client, world)
    assert (await state(client, first)).status_code == 200
    await world.engine.delete(f"/device({first.id})", Permissions.all())
    again = await register(client, world, uuid=first.uuid)
    again = Device(again.id, first.uuid, again.key)  # the helper's own uuid was overridden
    assert again.id != first.id
    assert (await state(client, again)).json()[again.uuid]["name"] == (
        await world.one(f"/device({again.id})?$select=device_name"))["device_name"]
    await world.post("/device_environment_variable", {"device": again.id, "name": "AGAIN", "value": "1"})
    services = (await state(client, again)).json()[again.uuid]["apps"][world.fleet_uuid]["releases"][world.commit][
        "services"]
    assert services["main"]["environment"]["AGAIN"] == "1"
