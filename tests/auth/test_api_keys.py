"""User API keys: Bearer or `?apikey=`, stored as SHA-256 hashes and never readable back
through /v7/api_key (spec/model.md §1.14, device-api.md §0.1). On both databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from fleetyard.auth import api_keys
from fleetyard.auth.bootstrap import AuthSettings, bootstrap
from tests.auth.conftest import World, d, new_key


async def test_a_user_key_authenticates_as_its_user(client, engine, world: World):
    key = await new_key(engine, world.alice)
    assert len(key) == 32 and key.isalnum()
    for headers, path in (({"Authorization": f"Bearer {key}"}, "/actor/v1/whoami"),
                          ({}, f"/actor/v1/whoami?apikey={key}")):
        r = await client.get(path, headers=headers)
        assert r.status_code == 200
        assert r.json() == {"id": world.alice.actor, "actorType": "user", "actorTypeId": world.alice.user,
                            "username": "alice", "email": "alice@example.com"}
    r = await client.get("/user/v1/whoami", headers={"Authorization": f"Bearer {key}"})
    assert r.json() == {"id": world.alice.user, "username": "alice", "email": "alice@example.com"}
    # the key carries the user's rights, and the OData route ignores `apikey` as an option
    r = await client.get(f"/v7/device?$select=id&apikey={key}")
    assert r.status_code == 200 and r.json() == {"d": [{"id": world.alice.device}]}
    r = await client.get("/v7/device?$select=id", headers={"Authorization": f"Bearer {key}"})
    assert r.json() == {"d": [{"id": world.alice.device}]}


async def test_keys_are_stored_hashed(client, engine, world: World):
    key = await new_key(engine, world.alice)
    stored = [row[0] for row in await engine.db.fetch_all("SELECT key FROM api_key")]
    assert stored == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in stored


async def test_the_key_is_never_readable_through_odata(client, engine, world: World):
    key = await new_key(engine, world.alice)
    digest = api_keys.digest(key)
    r = await client.get("/v7/api_key", headers=world.alice.headers)
    [row] = r.json()["d"]
    assert "key" not in row and row["is_of__actor"] == {"__id": world.alice.actor} and row["name"] == "test"
    assert key not in r.text and digest not in r.text
    for url in ("/v7/api_key?$select=key", f"/v7/api_key?$filter=key eq '{digest}'",
                f"/v7/api_key(key='{digest}')", "/v7/api_key?$orderby=key"):
        r = await client.get(url, headers=world.alice.headers)
        assert r.status_code == 400, (url, r.text)
    # nor for a superuser
    admin = await _admin_headers(client, engine)
    r = await client.get("/v7/api_key", headers=admin)
    assert r.status_code == 200 and digest not in r.text and all("key" not in k for k in r.json()["d"])


async def test_keys_are_ones_own(client, engine, world: World):
    mine = await new_key(engine, world.alice)
    await new_key(engine, world.bob)
    rows = (await client.get("/v7/api_key?$select=id,is_of__actor", headers=world.bob.headers)).json()["d"]
    assert [r["is_of__actor"]["__id"] for r in rows] == [world.bob.actor]
    # keys are made by the key routes only, not through OData
    r = await client.post("/v7/api_key", json={"key": "k" * 32, "is_of__actor": world.bob.actor},
                          headers=world.bob.headers)
    assert r.status_code == 401
    # bob cannot revoke alice's key; alice can
    [alices] = await d(engine, f"/api_key?$select=id&$filter=is_of__actor eq {world.alice.actor}")
    assert (await client.delete(f"/v7/api_key({alices['id']})", headers=world.bob.headers)).status_code == 200
    assert (await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {mine}"})).status_code == 200
    assert (await client.delete(f"/v7/api_key({alices['id']})", headers=world.alice.headers)).status_code == 200
    assert (await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {mine}"})).status_code == 401


async def test_expired_and_unknown_keys_are_no_credentials(client, engine, world: World):
    past = datetime.now(UTC) - timedelta(minutes=1)
    future = datetime.now(UTC) + timedelta(days=1)
    expired = await new_key(engine, world.alice, expiry=past)
    valid = await new_key(engine, world.alice, expiry=future)
    for key, status in ((expired, 401), ("A" * 32, 401), (valid, 200)):
        r = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == status, key
    # no credential is the guest: the catalogue still answers
    r = await client.get("/v7/device_type?$top=1", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 200
    r = await client.get("/v7/device", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401


async def test_device_and_fleet_keys_answer_their_whoami(client, engine, world: World):
    [device] = await d(engine, f"/device({world.alice.device})?$select=actor,uuid")
    [fleet] = await d(engine, f"/application({world.alice.fleet})?$select=actor,slug")
    device_key = await api_keys.create(engine, device["actor"]["__id"])
    fleet_key = await api_keys.create(engine, fleet["actor"]["__id"])
    r = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {device_key}"})
    assert r.json() == {"id": device["actor"]["__id"], "actorType": "device",
                        "actorTypeId": world.alice.device, "uuid": device["uuid"]}
    r = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {fleet_key}"})
    assert r.json() == {"id": fleet["actor"]["__id"], "actorType": "application",
                        "actorTypeId": world.alice.fleet, "slug": "alice/fleet"}
    # not a user: /user/v1/whoami refuses (device-api.md §11)
    r = await client.get("/user/v1/whoami", headers={"Authorization": f"Bearer {device_key}"})
    assert r.status_code == 401 and r.content == b""


async def _admin_headers(client, engine) -> dict[str, str]:
    settings = AuthSettings(jwt_secret="unused", admin_username="root", admin_password="root-password")
    await bootstrap(engine, settings)
    r = await client.post("/login_", json={"username": "root", "password": "root-password"})
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.text}"}
