"""The key routes (spec/device-api.md §2): named user keys on a sudo-fresh session, fleet
(provisioning) keys and the generic v1/v2 routes, each key with its role; listing and
revoking through /v7/api_key; what each key type may then do (model.md §5.2). On both
databases."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fleetyard.auth import tokens
from tests.auth.conftest import SECRET, Tenant, World, d


def stale(t: Tenant) -> dict[str, str]:
    """A valid session whose password was typed an hour ago."""
    token = tokens.issue(SECRET, t.user, t.jwt_secret, auth_time_ms=int((time.time() - 3600) * 1000))
    return {"Authorization": f"Bearer {token}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def roles_of(engine, key_id: int) -> list[str]:
    rows = await d(engine, f"/api_key__has__role?$filter=api_key eq {key_id}&$expand=role($select=name)")
    return [r["role"][0]["name"] for r in rows]


async def test_named_user_keys(client, engine, world: World):
    a = world.alice
    r = await client.post("/api-key/user/full", json={"name": "ci", "description": "for CI",
                                                      "expiryDate": None}, headers=a.headers)
    assert r.status_code == 200, r.text
    key = r.json()
    assert isinstance(key, str) and len(key) == 32
    r = await client.get("/user/v1/whoami", headers=bearer(key))
    assert r.json()["id"] == a.user
    [row] = (await client.get("/v7/api_key?$select=id,name,description,expiry_date", headers=a.headers)).json()["d"]
    assert row["name"] == "ci" and row["description"] == "for CI" and row["expiry_date"] is None
    assert await roles_of(engine, row["id"]) == ["named-user-api-key"]
    # a name is required (400, empty body); a stale session and a key itself may not make one
    r = await client.post("/api-key/user/full", json={"description": "x"}, headers=a.headers)
    assert r.status_code == 400 and r.content == b""
    r = await client.post("/api-key/user/full", json={"name": "late"}, headers=stale(a))
    assert r.status_code == 401 and r.json() == "Fresh authentication token required"
    r = await client.post("/api-key/user/full", json={"name": "by key"}, headers=bearer(key))
    assert r.status_code == 401
    r = await client.post("/api-key/user/full", json={"name": "anon"})
    assert r.status_code == 401
    # limits and dates
    r = await client.post("/api-key/user/full", json={"name": "x" * 51}, headers=a.headers)
    assert r.status_code == 400
    r = await client.post("/api-key/user/full", json={"name": "d", "expiryDate": "soon"}, headers=a.headers)
    assert r.status_code == 400 and r.json() == "Key expiry date should be a valid date"


async def test_keys_expire(client, world: World):
    a = world.alice
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    expired = (await client.post("/api-key/user/full", json={"name": "old", "expiryDate": past},
                                 headers=a.headers)).json()
    valid = (await client.post("/api-key/user/full", json={"name": "new", "expiryDate": future},
                               headers=a.headers)).json()
    assert (await client.get("/actor/v1/whoami", headers=bearer(expired))).status_code == 401
    assert (await client.get("/actor/v1/whoami", headers=bearer(valid))).status_code == 200


async def test_revoking_a_key_takes_its_role_rows(client, engine, world: World):
    a = world.alice
    key = (await client.post("/api-key/user/full", json={"name": "gone"}, headers=a.headers)).json()
    [row] = await d(engine, f"/api_key?$select=id&$filter=is_of__actor eq {a.actor}")
    assert await roles_of(engine, row["id"]) == ["named-user-api-key"]
    # renamed, described, given an expiry; never moved to another actor
    r = await client.patch(f"/v7/api_key({row['id']})", json={"name": "renamed", "expiry_date": None},
                           headers=a.headers)
    assert r.status_code == 200
    [fleet] = await d(engine, f"/application({a.fleet})?$select=actor")
    r = await client.patch(f"/v7/api_key({row['id']})", json={"is_of__actor": fleet["actor"]["__id"]},
                           headers=a.headers)
    assert r.status_code == 400
    assert (await client.delete(f"/v7/api_key({row['id']})", headers=a.headers)).status_code == 200
    assert await d(engine, f"/api_key__has__role?$filter=api_key eq {row['id']}") == []
    assert (await client.get("/actor/v1/whoami", headers=bearer(key))).status_code == 401


async def test_provisioning_keys(client, engine, world: World):
    a, b = world.alice, world.bob
    r = await client.post(f"/api-key/application/{a.fleet}/provisioning", json={"name": "prov"}, headers=a.headers)
    assert r.status_code == 200, r.text
    key = r.json()
    r = await client.get("/actor/v1/whoami", headers=bearer(key))
    assert r.json()["actorType"] == "application" and r.json()["actorTypeId"] == a.fleet
    # alice lists and revokes her fleet's keys; bob sees none of them
    listed = (await client.get("/v7/api_key?$select=id,name", headers=a.headers)).json()["d"]
    assert [k["name"] for k in listed] == ["prov"]
    assert await roles_of(engine, listed[0]["id"]) == ["provisioning-api-key"]
    assert (await client.get("/v7/api_key", headers=b.headers)).json()["d"] == []
    # not for a fleet one cannot see, nor a public one, nor without a number
    r = await client.post(f"/api-key/application/{b.fleet}/provisioning", json={}, headers=a.headers)
    assert r.status_code == 404 and r.json() == "No application found to associate with the api key"
    r = await client.post(f"/api-key/application/{world.public_fleet}/provisioning", json={}, headers=a.headers)
    assert r.status_code == 403 and r.content == b""
    r = await client.post("/api-key/application/abc/provisioning", json={}, headers=a.headers)
    assert r.status_code == 400 and r.text == "Application id must be a number"
    # the key creates devices in its own fleet only, reads no device, writes nothing else
    [dt] = await d(engine, f"/application({a.fleet})?$select=is_for__device_type")
    device = {"is_of__device_type": dt["is_for__device_type"]["__id"], "uuid": "ab" * 16}
    r = await client.post("/v7/device", json={**device, "belongs_to__application": b.fleet}, headers=bearer(key))
    assert r.status_code == 401
    r = await client.post("/v7/device", json={**device, "belongs_to__application": a.fleet}, headers=bearer(key))
    assert r.status_code == 201 and set(r.json()) == {"id"}
    assert (await client.get("/v7/device", headers=bearer(key))).status_code == 401
    r = await client.post("/v7/application_tag", json={"application": a.fleet, "tag_key": "k", "value": "v"},
                          headers=bearer(key))
    assert r.status_code == 401
    # revoked: no key any more
    assert (await client.delete(f"/v7/api_key({listed[0]['id']})", headers=a.headers)).status_code == 200
    assert (await client.get("/actor/v1/whoami", headers=bearer(key))).status_code == 401


async def test_generic_routes(client, engine, world: World):
    a = world.alice
    body = {"actorType": "application", "actorTypeId": a.fleet, "roles": ["provisioning-api-key"],
            "name": "sdk", "description": None, "expiryDate": None}
    for route in ("/api-key/v1/", "/api-key/v2/"):
        r = await client.post(route, json=body, headers=a.headers)
        assert r.status_code == 200 and isinstance(r.json(), str), r.text
    no_expiry = {k: v for k, v in body.items() if k != "expiryDate"}
    assert (await client.post("/api-key/v1/", json=no_expiry, headers=a.headers)).status_code == 200
    assert (await client.post("/api-key/v2/", json=no_expiry, headers=a.headers)).status_code == 400
    r = await client.post("/api-key/v1/", json={**body, "roles": ["a", "b"]}, headers=a.headers)
    assert r.status_code == 400 and r.json() == "API Keys currently only support a single role"
    r = await client.post("/api-key/v1/", json={**body, "roles": ["no-such-role"]}, headers=a.headers)
    assert r.status_code == 404 and r.json() == "Role 'no-such-role' not found"
    r = await client.post("/api-key/v1/", json={**body, "roles": ["device-api-key"]}, headers=a.headers)
    assert r.status_code == 403
    user_body = {"actorType": "user", "actorTypeId": a.user, "roles": ["named-user-api-key"]}
    r = await client.post("/api-key/v1/", json=user_body, headers=a.headers)
    assert r.status_code == 400 and r.json() == "API keys with the 'named-user-api-key' role require a name"
    r = await client.post("/api-key/v1/", json={**user_body, "name": "n"}, headers=stale(a))
    assert r.status_code == 401
    r = await client.post("/api-key/v1/", json={**user_body, "name": "n"}, headers=a.headers)
    assert r.status_code == 200
    # a device key, with the key chosen by the caller; the same key again is a 409
    dev = {"actorType": "device", "actorTypeId": a.device, "roles": ["device-api-key"], "apiKey": "K" * 32}
    r = await client.post("/api-key/v2/", json={**dev, "expiryDate": None}, headers=a.headers)
    assert r.status_code == 200 and r.json() == "K" * 32
    r = await client.post("/api-key/v2/", json={**dev, "expiryDate": None}, headers=a.headers)
    assert r.status_code == 409 and r.json() == '"key" must be unique.'
    who = (await client.get("/actor/v1/whoami", headers=bearer("K" * 32))).json()
    assert who["actorType"] == "device" and who["actorTypeId"] == a.device
    # bob makes no key for alice's device, fleet or self
    for target in (dev, body, {**user_body, "name": "n"}):
        r = await client.post("/api-key/v1/", json={**target, "apiKey": None}, headers=world.bob.headers)
        assert r.status_code in (403, 404), (target, r.status_code)
    r = await client.post("/api-key/v1/", json=body, headers=bearer("K" * 32))
    assert r.status_code == 401  # a device is no user


async def test_a_device_key_has_exactly_its_rights(client, engine, world: World):
    a, b = world.alice, world.bob
    dev = {"actorType": "device", "actorTypeId": a.device, "roles": ["device-api-key"], "expiryDate": None}
    key = (await client.post("/api-key/v2/", json=dev, headers=a.headers)).json()
    h = bearer(key)

    async def ids(url: str) -> list[int]:
        r = await client.get(url, headers=h)
        assert r.status_code == 200, (url, r.text)
        return [row["id"] for row in r.json()["d"]]

    assert await ids("/v7/device?$select=id") == [a.device]
    assert await ids(f"/v7/device({b.device})?$select=id") == []
    assert a.fleet in await ids("/v7/application?$select=id")
    assert b.fleet not in await ids("/v7/application?$select=id")
    assert a.release in await ids("/v7/release?$select=id") and b.release not in await ids("/v7/release?$select=id")
    assert await ids("/v7/device_tag?$select=id") == [a.ids["device_tag"]]
    assert await ids("/v7/application_environment_variable?$select=id") == [
        a.ids["application_environment_variable"]]
    # its own rows: tags and variables written, its device renamed
    r = await client.post("/v7/device_tag", json={"device": a.device, "tag_key": "k", "value": "v"}, headers=h)
    assert r.status_code == 201
    r = await client.post("/v7/device_config_variable", json={"device": a.device, "name": "RESIN_X", "value": "1"},
                          headers=h)
    assert r.status_code == 201
    assert (await client.patch(f"/v7/device({a.device})", json={"device_name": "renamed"}, headers=h)).status_code == 200
    assert (await d(engine, f"/device({a.device})?$select=device_name"))[0]["device_name"] == "renamed"
    # nothing of its fleet's or anyone else's
    for url, body in (("/v7/device_tag", {"device": b.device, "tag_key": "k", "value": "v"}),
                      ("/v7/application_tag", {"application": a.fleet, "tag_key": "k", "value": "v"}),
                      ("/v7/release_tag", {"release": a.release, "tag_key": "k", "value": "v"})):
        assert (await client.post(url, json=body, headers=h)).status_code == 401, url
    await client.patch(f"/v7/application({a.fleet})", json={"app_name": "taken"}, headers=h)
    await client.patch(f"/v7/device({b.device})", json={"device_name": "taken"}, headers=h)
    assert (await d(engine, f"/application({a.fleet})?$select=app_name"))[0]["app_name"] == "fleet"
    assert (await d(engine, f"/device({b.device})?$select=device_name"))[0]["device_name"] == "bob-pi"
    for url in ("/v7/user", "/v7/organization", "/v7/api_key"):
        assert (await client.get(url, headers=h)).status_code == 401, url
    # a device is not a user: no user routes
    assert (await client.post("/api-key/user/full", json={"name": "x"}, headers=h)).status_code == 401
