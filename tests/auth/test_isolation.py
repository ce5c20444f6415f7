"""Two users of two organizations never see nor touch each other's fleets: GET by key and
by alternate key, $filter through navigations, $expand, $count, PATCH, DELETE and POST, on
both databases. Public fleets are readable by both, but never their devices, nor writable."""

from __future__ import annotations

import pytest

from tests.auth.conftest import ALL, Tenant, World, d

OWNED = ("application", "release", "device", "device_tag", "device_environment_variable",
         "application_tag", "application_environment_variable", "release_tag", "organization", "user")


def pairs(world: World) -> list[tuple[Tenant, Tenant]]:
    return [(world.alice, world.bob), (world.bob, world.alice)]


async def get_d(client, url: str, me: Tenant) -> list | int:
    r = await client.get(url, headers=me.headers)
    assert r.status_code == 200, (url, r.status_code, r.text)
    return r.json()["d"]


async def test_get_by_key_sees_only_ones_own(client, world: World):
    for me, other in pairs(world):
        for resource in OWNED:
            assert len(await get_d(client, f"/v7/{resource}({me.ids[resource]})", me)) == 1, resource
            assert await get_d(client, f"/v7/{resource}({other.ids[resource]})", me) == [], resource


async def test_get_by_alternate_key(client, world: World):
    for me, other in pairs(world):
        for url in (f"/v7/application(slug='{other.username}%2Ffleet')",
                    f"/v7/device(uuid='{f'{other.user:x}'.rjust(32, 'd')}')",
                    f"/v7/organization(handle='{other.username}')"):
            assert await get_d(client, url, me) == [], url
        assert len(await get_d(client, f"/v7/organization(handle='{me.username}')", me)) == 1


async def test_collections_and_filters_through_navigations(client, world: World):
    for me, other in pairs(world):
        devices = await get_d(client, "/v7/device?$select=id", me)
        assert devices == [{"id": me.device}]
        for url in (
            f"/v7/device?$filter=belongs_to__application/any(a:a/slug eq '{other.username}%2Ffleet')",
            f"/v7/application?$filter=organization/any(o:o/handle eq '{other.username}')",
            f"/v7/device_tag?$filter=value eq '{other.username}'",
            f"/v7/release?$filter=belongs_to__application eq {other.fleet}",
            f"/v7/user?$filter=username eq '{other.username}'",
            f"/v7/organization_membership?$filter=user eq {other.user}",
            # a path through a row the caller may read (the device type) to one it may not
            f"/v7/device_type?$filter=describes__device/any(x:x/id eq {other.device})",
        ):
            assert await get_d(client, url, me) == [], url
        apps = await get_d(client, "/v7/application?$select=id,is_public", me)
        assert {a["id"] for a in apps if not a["is_public"]} == {me.fleet}


async def test_expand_never_reaches_the_other_organization(client, world: World):
    for me, other in pairs(world):
        types = await get_d(client, "/v7/device_type?$select=id&$expand=describes__device($select=id)", me)
        assert sorted(x["id"] for t in types for x in t["describes__device"]) == [me.device]
        rows = await get_d(client, "/v7/organization_membership_role?$expand=is_of__organization_membership"
                                   "($select=user)", me)
        users = {m["user"]["__id"] for r in rows for m in r["is_of__organization_membership"]}
        assert users == {me.user}
        [mine] = await get_d(client, f"/v7/user({me.user})?$expand=organization_membership("
                                     "$expand=is_member_of__organization($expand=application($select=id)))", me)
        [membership] = mine["organization_membership"]
        assert [a["id"] for a in membership["is_member_of__organization"][0]["application"]] == [me.fleet]
        releases = await get_d(client, f"/v7/application?$select=id&$expand=owns__release($select=id)"
                                       f"&$filter=id in ({me.fleet}, {other.fleet})", me)
        assert releases == [{"id": me.fleet, "owns__release": [{"id": me.release}]}]


async def test_counts(client, engine, world: World):
    for me, _ in pairs(world):
        for resource in ("device", "device_tag", "device_environment_variable", "application_tag",
                         "application_environment_variable", "release_tag", "user", "organization"):
            assert await get_d(client, f"/v7/{resource}/$count", me) == 1, resource
        assert await get_d(client, "/v7/application/$count?$filter=is_public eq false", me) == 1
        # `nav/$count` inside a filter counts only what the caller may read
        [device] = await d(engine, f"/device({me.device})?$select=is_of__device_type")
        types = await get_d(client, "/v7/device_type?$select=id&$filter=describes__device/$count gt 0", me)
        assert types == [{"id": device["is_of__device_type"]["__id"]}]


async def test_patch_and_delete_leave_the_other_organization_alone(client, engine, world: World):
    for me, other in pairs(world):
        h = me.headers
        # by key: 200 and nothing touched (spec/model.md §5.1)
        r = await client.patch(f"/v7/device({other.device})", json={"device_name": "hijacked"}, headers=h)
        assert r.status_code == 200
        r = await client.delete(f"/v7/device_tag({other.ids['device_tag']})", headers=h)
        assert r.status_code == 200
        r = await client.patch(f"/v7/application({other.fleet})", json={"app_name": "mine"}, headers=h)
        assert r.status_code == 200
        # by $filter: only one's own rows change
        r = await client.patch("/v7/device_environment_variable?$filter=name eq 'OWNER'",
                               json={"value": "changed"}, headers=h)
        assert r.status_code == 200
        r = await client.delete("/v7/application_tag?$filter=tag_key eq 'owner'", headers=h)
        assert r.status_code == 200
        [device] = await d(engine, f"/device({other.device})?$select=device_name")
        assert device["device_name"] == f"{other.username}-pi"
        assert len(await d(engine, f"/device_tag({other.ids['device_tag']})")) == 1
        [fleet] = await d(engine, f"/application({other.fleet})?$select=app_name")
        assert fleet["app_name"] == "fleet"
        [var] = await d(engine, f"/device_environment_variable({other.ids['device_environment_variable']})")
        assert var["value"] == other.username
        [mine] = await d(engine, f"/device_environment_variable({me.ids['device_environment_variable']})")
        assert mine["value"] == "changed"
        # restore one's own for the symmetric round
        await engine.patch(f"/device_environment_variable({me.ids['device_environment_variable']})",
                           {"value": me.username}, ALL)


async def test_posts_pointing_at_the_other_organization_are_refused(client, engine, world: World):
    for me, other in pairs(world):
        h = me.headers
        # keys the other's rows hold too: the rule speaks before the unique constraint (401, not 409)
        for url, body in (
            ("/v7/device_tag", {"device": other.device, "tag_key": "x", "value": "y"}),
            ("/v7/device_tag", {"device": other.device, "tag_key": "owner", "value": "y"}),
            ("/v7/application_environment_variable", {"application": other.fleet, "name": "X", "value": "y"}),
            ("/v7/application_environment_variable", {"application": other.fleet, "name": "OWNER", "value": "y"}),
            ("/v7/release_tag", {"release": other.release, "tag_key": "owner", "value": "y"}),
        ):
            r = await client.post(url, json=body, headers=h)
            assert r.status_code == 401, (url, r.text)
    for me, _ in pairs(world):
        r = await client.post("/v7/device_tag", json={"device": me.device, "tag_key": "x", "value": "y"},
                              headers=me.headers)
        assert r.status_code == 201, r.text
    assert await d(engine, "/device_tag/$count?$filter=tag_key eq 'x'") == 2


async def test_fleets_are_created_in_ones_own_organizations_only(client, engine, world: World):
    [device_type] = await d(engine, f"/application({world.alice.fleet})?$select=is_for__device_type")
    body = {"app_name": "second", "is_for__device_type": device_type["is_for__device_type"]["__id"]}
    for me, other in pairs(world):
        r = await client.post("/v7/application", json={**body, "organization": other.organization},
                              headers=me.headers)
        # refused (the fleet rule cannot see the organization: "Missing organization handle")
        assert r.status_code in (400, 401, 404), r.text
        assert await d(engine, f"/application?$filter=slug eq '{other.username}%2Fsecond'") == []
        r = await client.post("/v7/application", json={**body, "organization": me.organization},
                              headers=me.headers)
        assert r.status_code == 201, r.text
        assert r.json()["slug"] == f"{me.username}/second"
        # what one creates, one reads, writes and deletes; the other does not see it
        new = r.json()["id"]
        assert len(await get_d(client, f"/v7/application({new})", me)) == 1
        assert await get_d(client, f"/v7/application({new})", other) == []
        r = await client.post("/v7/device", json={"belongs_to__application": new,
                                                  "is_of__device_type": body["is_for__device_type"]},
                              headers=me.headers)
        assert r.status_code == 201, r.text
        assert await get_d(client, f"/v7/device({r.json()['id']})", other) == []
        assert (await client.delete(f"/v7/application({new})", headers=me.headers)).status_code == 200
        assert await d(engine, f"/application({new})") == []


async def test_public_fleets_are_read_only_and_hide_their_devices(client, engine, world: World):
    pub = world.public_fleet
    [fleet] = await d(engine, f"/application({pub})?$select=is_for__device_type")
    hidden = (await engine.post("/device", {
        "uuid": "e" * 32, "device_name": "public-device",
        "is_of__device_type": fleet["is_for__device_type"]["__id"], "belongs_to__application": pub}, ALL))["id"]
    for me, _ in pairs(world):
        h = me.headers
        [row] = await get_d(client, f"/v7/application({pub})?$select=id&$expand=owns__device($select=id),"
                                    "owns__release($select=id)", me)
        assert row["owns__device"] == [] and row["owns__release"] == [{"id": world.public_release}]
        assert await get_d(client, f"/v7/device({hidden})", me) == []
        assert len(await get_d(client, f"/v7/release({world.public_release})", me)) == 1
        r = await client.patch(f"/v7/application({pub})", json={"app_name": "taken"}, headers=h)
        assert r.status_code == 200
        r = await client.delete(f"/v7/release({world.public_release})", headers=h)
        assert r.status_code == 200
        r = await client.post("/v7/application_tag", json={"application": pub, "tag_key": "x", "value": "y"},
                              headers=h)
        assert r.status_code == 401
    [after] = await d(engine, f"/application({pub})?$select=app_name")
    assert after["app_name"] != "taken"
    assert len(await d(engine, f"/release({world.public_release})")) == 1


@pytest.mark.parametrize("resource", ["config", "permission", "role", "user_role", "api_key__has__role"])
async def test_internal_resources_are_a_401_for_users(client, world: World, resource: str):
    r = await client.get(f"/v7/{resource}", headers=world.alice.headers)
    assert r.status_code == 401


async def test_patch_cannot_re_point_ones_rows_at_the_other_organization(client, engine, world: World):
    a, b = world.alice, world.bob
    r = await client.post("/v7/device_environment_variable",
                          json={"device": a.device, "name": "INJECTED", "value": "1"}, headers=a.headers)
    var = r.json()["id"]
    r = await client.patch(f"/v7/device_environment_variable({var})", json={"device": b.device}, headers=a.headers)
    assert r.status_code == 401
    await engine.patch(f"/application({a.fleet})", {"app_name": "alices"}, ALL)
    r = await client.patch(f"/v7/application({a.fleet})", json={"organization": b.organization}, headers=a.headers)
    assert r.status_code == 401
    assert await d(engine, f"/device_environment_variable({var})?$select=device") == [{"device": {"__id": a.device}}]
    assert await d(engine, f"/application({a.fleet})?$select=organization") == [
        {"organization": {"__id": a.organization}}]
