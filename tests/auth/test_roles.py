"""Organization and fleet roles (spec/model.md §5.3, decisions.md): what an administrator,
a plain member, and a fleet's developer, operator and observer may do; who may change the
memberships; `POST /v7/organization`; `is_directly_accessible_by__user`. On both databases."""

from __future__ import annotations

from fleetyard.auth import tokens
from fleetyard.auth.users import create_user
from tests.auth.conftest import ALL, PASSWORD, SECRET, START, World, d, one_id


async def person(engine, name: str) -> tuple[int, dict[str, str]]:
    new = await create_user(engine, name, PASSWORD)
    [row] = await engine.db.fetch_all(f'SELECT jwt_secret FROM "user" WHERE id = {new.id}')
    return new.id, {"Authorization": f"Bearer {tokens.issue(SECRET, new.id, str(row[0]))}"}


async def role_id(engine, resource: str, name: str) -> int:
    return await one_id(engine, f"/{resource}?$filter=name eq '{name}'")


async def join_fleet(engine, user: int, fleet: int, role: str) -> int:
    row = await engine.post("/user_application_membership", {
        "user": user, "is_member_of__application": fleet,
        "application_membership_role": await role_id(engine, "application_membership_role", role)}, ALL)
    return row["id"]


async def test_fleet_roles(client, engine, world: World):
    a = world.alice
    people = {}
    for role in ("developer", "operator", "observer"):
        uid, headers = await person(engine, f"carol_{role}")
        await join_fleet(engine, uid, a.fleet, role)
        people[role] = headers
    [fleet] = await d(engine, f"/application({a.fleet})?$select=is_for__device_type")
    device_type = fleet["is_for__device_type"]["__id"]
    for role, h in people.items():
        # everyone reads the fleet, its devices and releases, directly accessible
        direct = (await client.get("/v7/application?$select=id&$filter=is_directly_accessible_by__user/any(d:1 eq 1)",
                                   headers=h)).json()["d"]
        assert {x["id"] for x in direct} >= {a.fleet}, role
        assert (await client.get(f"/v7/device({a.device})", headers=h)).json()["d"], role
        assert (await client.get(f"/v7/release({a.release})", headers=h)).json()["d"], role
        can_develop, can_operate = role == "developer", role in ("developer", "operator")
        # device side: tags and devices (operator and developer)
        r = await client.post("/v7/device_tag", json={"device": a.device, "tag_key": role, "value": "1"}, headers=h)
        assert r.status_code == (201 if can_operate else 401), (role, r.text)
        r = await client.post("/v7/device", json={"belongs_to__application": a.fleet, "is_of__device_type": device_type},
                              headers=h)
        assert r.status_code == (201 if can_operate else 401), (role, r.text)
        # fleet side: variables, releases and the fleet itself (developer)
        r = await client.post("/v7/application_environment_variable",
                              json={"application": a.fleet, "name": f"V_{role}", "value": "1"}, headers=h)
        assert r.status_code == (201 if can_develop else 401), (role, r.text)
        r = await client.post("/v7/release", json={
            "belongs_to__application": a.fleet, "commit": f"c{role}", "composition": {}, "status": "success",
            "source": "cloud", "start_timestamp": START}, headers=h)
        assert r.status_code == (201 if can_develop else 401), (role, r.text)
        await client.patch(f"/v7/application({a.fleet})", json={"app_name": f"by_{role}"}, headers=h)
        [row] = await d(engine, f"/application({a.fleet})?$select=app_name")
        assert (row["app_name"] == f"by_{role}") == can_develop, role
        # administrators only: delete the fleet, add members, create fleets
        assert (await client.delete(f"/v7/application({a.fleet})", headers=h)).status_code in (200, 404)
        assert await d(engine, f"/application({a.fleet})?$select=id"), role
        r = await client.post("/v7/user_application_membership", json={
            "user": a.user, "is_member_of__application": a.fleet,
            "application_membership_role": await role_id(engine, "application_membership_role", "observer")},
            headers=h)
        assert r.status_code == 401, role
        r = await client.post("/v7/application", json={"organization": a.organization, "app_name": "other",
                                                       "is_for__device_type": device_type}, headers=h)
        assert r.status_code in (400, 401), role
    # a fleet member sees nothing of the organization's other fleets, nor of bob's
    second = (await engine.post("/application", {"organization": a.organization, "app_name": "second",
                                                 "is_for__device_type": device_type}, ALL))["id"]
    for h in people.values():
        assert (await client.get(f"/v7/application({second})", headers=h)).json()["d"] == []
        assert (await client.get(f"/v7/application({world.bob.fleet})", headers=h)).json()["d"] == []


async def test_organization_members_and_administrators(client, engine, world: World):
    a = world.alice
    dave, h = await person(engine, "dave")
    member = await role_id(engine, "organization_membership_role", "member")
    admin = await role_id(engine, "organization_membership_role", "administrator")
    # alice, administrator, adds dave as a plain member (the default role)
    r = await client.post("/v7/organization_membership", json={"user": dave, "is_member_of__organization": a.organization},
                          headers=a.headers)
    assert r.status_code == 201, r.text
    membership = r.json()["id"]
    assert r.json()["organization_membership_role"] == {"__id": member}
    # a member reads the organization's fleets and members, changes nothing
    assert (await client.get(f"/v7/application({a.fleet})", headers=h)).json()["d"]
    users = {u["username"] for u in (await client.get("/v7/user?$select=username", headers=h)).json()["d"]}
    assert users == {"alice", "dave"}
    direct = (await client.get("/v7/application?$select=id&$filter=is_directly_accessible_by__user/any(d:1 eq 1)",
                               headers=h)).json()["d"]
    assert a.fleet in {x["id"] for x in direct}
    r = await client.post("/v7/device_tag", json={"device": a.device, "tag_key": "dave", "value": "1"}, headers=h)
    assert r.status_code == 401
    await client.patch(f"/v7/organization({a.organization})", json={"name": "daves"}, headers=h)
    assert (await d(engine, f"/organization({a.organization})?$select=name"))[0]["name"] == "alice"
    # nor makes themselves administrator, nor adds anyone
    await client.patch(f"/v7/organization_membership({membership})", json={"organization_membership_role": admin},
                       headers=h)
    assert (await d(engine, f"/organization_membership({membership})?$select=organization_membership_role"))[0][
        "organization_membership_role"] == {"__id": member}
    r = await client.post("/v7/organization_membership", json={
        "user": dave, "is_member_of__organization": a.organization, "organization_membership_role": admin}, headers=h)
    assert r.status_code in (401, 409)
    # alice makes dave administrator: now he changes things; the last administrator stays
    r = await client.patch(f"/v7/organization_membership({membership})", json={"organization_membership_role": admin},
                           headers=a.headers)
    assert r.status_code == 200
    r = await client.post("/v7/device_tag", json={"device": a.device, "tag_key": "dave", "value": "1"}, headers=h)
    assert r.status_code == 201
    [alices] = await d(engine, f"/organization_membership?$filter=user eq {a.user} and "
                               f"is_member_of__organization eq {a.organization}")
    assert (await client.delete(f"/v7/organization_membership({alices['id']})", headers=h)).status_code == 200
    r = await client.delete(f"/v7/organization_membership({membership})", headers=h)
    assert r.status_code == 400 and r.json() == "An organization must keep at least one administrator"
    # moving a membership to another organization is not a thing
    r = await client.patch(f"/v7/organization_membership({membership})",
                           json={"is_member_of__organization": world.bob.organization}, headers=h)
    assert r.status_code in (400, 401)


async def test_create_an_organization(client, engine, world: World):
    a = world.alice
    r = await client.post("/v7/organization", json={"name": "Other Org!"}, headers=a.headers)
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["handle"] == "other_org" and org["name"] == "Other Org!"
    rows = await d(engine, f"/organization_membership?$filter=is_member_of__organization eq {org['id']}"
                           "&$expand=organization_membership_role($select=name)")
    assert [(m["user"]["__id"], m["organization_membership_role"][0]["name"]) for m in rows] == [
        (a.user, "administrator")]
    # bob does not see it; a taken handle is a 409; a nameless one a 400
    assert (await client.get(f"/v7/organization({org['id']})", headers=world.bob.headers)).json()["d"] == []
    r = await client.post("/v7/organization", json={"name": "other-org"}, headers=world.bob.headers)
    assert r.status_code == 409 and r.json() == '"handle" must be unique.'
    assert (await client.post("/v7/organization", json={"name": "!!!"}, headers=a.headers)).status_code == 400
    assert (await client.post("/v7/organization", json={}, headers=a.headers)).status_code == 400
    assert (await client.post("/v7/organization", json={"name": "x"})).status_code == 401
    # alice creates fleets in it; bob cannot, nor move alice's fleet into his organization
    [dt] = await d(engine, f"/application({a.fleet})?$select=is_for__device_type")
    body = {"app_name": "inother", "is_for__device_type": dt["is_for__device_type"]["__id"], "organization": org["id"]}
    r = await client.post("/v7/application", json=body, headers=a.headers)
    assert r.status_code == 201 and r.json()["slug"] == "other_org/inother"
    moved = r.json()["id"]
    r = await client.patch(f"/v7/application({a.fleet})", json={"organization": world.bob.organization},
                           headers=a.headers)
    assert r.status_code == 401
    # alice moves her fleet between her two organizations; deletes the organization once empty
    r = await client.patch(f"/v7/application({moved})", json={"organization": a.organization},
                           headers=a.headers)
    assert r.status_code == 200
    assert (await client.delete(f"/v7/organization({org['id']})", headers=world.bob.headers)).status_code == 200
    assert await d(engine, f"/organization({org['id']})?$select=id")
    assert (await client.delete(f"/v7/organization({org['id']})", headers=a.headers)).status_code == 200
    assert await d(engine, f"/organization({org['id']})?$select=id") == []


async def test_direct_access_is_exact(client, engine, world: World):
    """decisions.md: the fleets of one's organizations and the fleets one is a member of;
    never a public fleet for being public."""
    a, b = world.alice, world.bob
    url = "/v7/application?$select=id&$filter=is_directly_accessible_by__user/any(d:1 eq 1)"
    assert (await client.get(url, headers=a.headers)).json()["d"] == [{"id": a.fleet}]
    await join_fleet(engine, a.user, b.fleet, "observer")
    assert (await client.get(url, headers=a.headers)).json()["d"] == [{"id": a.fleet}, {"id": b.fleet}]
    rows = (await client.get("/v7/user__has_direct_access_to__application", headers=a.headers)).json()["d"]
    assert sorted(r["has_direct_access_to__application"]["__id"] for r in rows) == [a.fleet, b.fleet]
    assert {r["user"]["__id"] for r in rows} == {a.user} and all(r["id"] is None for r in rows)
    # the observer reads bob's fleet, changes nothing of it
    await client.patch(f"/v7/application({b.fleet})", json={"app_name": "mine"}, headers=a.headers)
    assert (await d(engine, f"/application({b.fleet})?$select=app_name"))[0]["app_name"] == "fleet"
    assert (await client.get(url, headers=b.headers)).json()["d"] == [{"id": b.fleet}]


async def test_keys_of_a_fleet_are_for_its_operators(client, engine, world: World):
    a = world.alice
    for role, status in (("observer", 403), ("operator", 200), ("developer", 200)):
        uid, h = await person(engine, f"erin_{role}")
        await join_fleet(engine, uid, a.fleet, role)
        r = await client.post(f"/api-key/device/{a.device}/device-key", json={}, headers=h)
        assert r.status_code == status, (role, r.text)
        r = await client.post(f"/api-key/application/{a.fleet}/provisioning", json={}, headers=h)
        assert r.status_code == status, (role, r.text)
        listed = (await client.get("/v7/api_key?$select=id", headers=h)).json()["d"]
        assert (len(listed) > 0) == (status == 200), role
    r = await client.post(f"/api-key/device/{world.bob.device}/device-key", json={}, headers=a.headers)
    assert r.status_code in (403, 404)
