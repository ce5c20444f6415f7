"""device_history: a row whenever a device changes fleet, pin, running release or OS,
with the v7 fields, read through /v7 with the device's rights (model.md §7)."""

from __future__ import annotations

from fleetyard.odata.permissions import Permissions
from tests.device.conftest import register

FIELDS = "id,end_timestamp,is_created_by__actor,is_ended_by__actor,tracks__device,tracks__actor,uuid," \
         "belongs_to__application,is_running__release,is_pinned_on__release,os_version,supervisor_version"


async def entries(world, device) -> list[dict]:
    return await world.d(f"/device_history?$select={FIELDS}&$filter=uuid eq '{device.uuid}'&$orderby=id asc")


async def test_history_follows_the_device(client, world):
    device = await register(client, world)
    (first,) = await entries(world, device)
    assert first["end_timestamp"] is None and first["tracks__device"] == {"__id": device.id}
    assert first["belongs_to__application"] == {"__id": world.fleet}
    fleet_actor = (await world.one(f"/application({world.fleet})?$select=actor"))["actor"]
    assert first["is_created_by__actor"] == fleet_actor  # the provisioning key registered it
    device_actor = (await world.one(f"/device({device.id})?$select=actor"))["actor"]
    assert first["tracks__actor"] == device_actor

    # Changes that do not count: a name, a status.
    await client.patch(f"/v7/device({device.id})", headers=world.alice.headers, json={"device_name": "a"})
    await client.patch("/device/v3/state", headers=device.headers, json={device.uuid: {"status": "Idle"}})
    assert len(await entries(world, device)) == 1

    # Pinned by alice; then an OS and a running release reported by the device itself.
    r = await client.patch(f"/v7/device({device.id})", headers=world.alice.headers,
                           json={"is_pinned_on__release": world.release})
    assert r.status_code == 200
    await client.patch("/device/v3/state", headers=device.headers, json={device.uuid: {
        "os_version": "balenaOS 6.0.1", "apps": {world.fleet_uuid: {"release_uuid": world.commit, "releases": {}}}}})
    rows = await entries(world, device)
    assert len(rows) == 3
    assert [r["end_timestamp"] is None for r in rows] == [False, False, True]
    assert rows[0]["is_ended_by__actor"] == {"__id": world.alice.actor}
    assert rows[1]["is_pinned_on__release"] == {"__id": world.release} and rows[1]["os_version"] is None
    assert rows[1]["is_ended_by__actor"] == device_actor
    assert rows[2]["os_version"] == "balenaOS 6.0.1" and rows[2]["is_running__release"] == {"__id": world.release}

    # Moved to another fleet: the pin goes with the move, one new entry.
    other = await world.post("/application", {"organization": world.alice.organization, "app_name": "second",
                                              "is_for__device_type": world.device_type})
    await client.patch(f"/v7/device({device.id})", headers=world.alice.headers,
                       json={"belongs_to__application": other["id"]})
    rows = await entries(world, device)
    assert len(rows) == 4 and rows[3]["belongs_to__application"] == {"__id": other["id"]}
    assert rows[3]["is_pinned_on__release"] is None

    # Readable through /v7: by the device and its fleet's users, never by another tenant.
    mine = await client.get(f"/v7/device_history?$filter=tracks__device eq {device.id}", headers=device.headers)
    assert len(mine.json()["d"]) == 4
    theirs = await client.get(f"/v7/device_history?$filter=tracks__device eq {device.id}",
                              headers=world.bob.headers)
    assert theirs.status_code == 200 and theirs.json()["d"] == []
    assert (await client.patch(f"/v7/device_history({rows[0]['id']})", headers=device.headers,
                               json={"os_version": "x"})).status_code == 401

    # Deleted: the open entry ends, the history stays.
    await world.engine.delete(f"/device({device.id})", Permissions.all(), {"__ACTOR_ID": world.alice.actor})
    rows = await entries(world, device)
    assert len(rows) == 4 and all(r["end_timestamp"] for r in rows) and rows[3]["tracks__device"] is None
    assert rows[3]["is_ended_by__actor"] == {"__id": world.alice.actor}
