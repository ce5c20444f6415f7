"""`POST /login_` and the whoami endpoints over HTTP (spec/device-api.md §11, clients.md §3),
on both databases."""

from __future__ import annotations

import jwt
import pytest

from fleetyard.auth import tokens
from tests.auth.conftest import PASSWORD, SECRET, World


@pytest.mark.parametrize("login", ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"])
async def test_login_by_username_or_email_answers_the_bare_jwt(client, world: World, login: str):
    r = await client.post("/login_", json={"username": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    claims = jwt.decode(r.text, SECRET, algorithms=["HS256"])
    # exactly the reference's claims (device-api.md §0.1), a 7-day life
    assert set(claims) == {"id", "jwt_secret", "authTime", "iat", "exp"}
    assert claims["id"] == world.alice.user and claims["jwt_secret"] == world.alice.jwt_secret
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
    assert abs(claims["authTime"] - claims["iat"] * 1000) < 5000
    who = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {r.text}"})
    assert who.status_code == 200 and who.json()["username"] == "alice"


async def test_login_takes_a_form_body(client, world: World):
    r = await client.post("/login_", data={"username": "bob", "password": PASSWORD})
    assert r.status_code == 200 and jwt.decode(r.text, SECRET, algorithms=["HS256"])["id"] == world.bob.user


@pytest.mark.parametrize("body", [
    {"username": "alice", "password": "wrong password"},
    {"username": "nobody", "password": PASSWORD},
    {"username": "nobody@example.com", "password": PASSWORD},
    {"username": "", "password": PASSWORD},
    {"username": "alice", "password": ""},
    {"username": "bob@example.com", "password": "alice's password"},
])
async def test_wrong_credentials_are_a_401_with_an_empty_body(client, world: World, body):
    r = await client.post("/login_", json=body)
    assert r.status_code == 401 and r.content == b""


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"password": PASSWORD},
                                  {"username": 1, "password": PASSWORD}, {"username": "alice", "password": None}])
async def test_missing_or_non_string_fields_are_a_400(client, world: World, body):
    r = await client.post("/login_", json=body)
    assert r.status_code == 400


async def test_login_with_a_malformed_body_is_a_400(client, world: World):
    r = await client.post("/login_", content=b'{"username": "alice",', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "Invalid JSON" in r.json()


async def test_whoami_shapes(client, world: World):
    a = world.alice
    r = await client.get("/user/v1/whoami", headers=a.headers)
    assert r.status_code == 200
    assert r.json() == {"id": a.user, "username": "alice", "email": "alice@example.com"}
    r = await client.get("/actor/v1/whoami", headers=a.headers)
    assert r.status_code == 200
    assert r.json() == {"id": a.actor, "actorType": "user", "actorTypeId": a.user,
                        "username": "alice", "email": "alice@example.com"}
    assert r.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="},
    {"Authorization": "Bearer " + tokens.issue("another secret" * 4, 1, "S" * 32)},
    {"Authorization": "Bearer " + tokens.issue(SECRET, 1, "S" * 32, now=1_000_000)},  # expired
])
async def test_whoami_without_valid_credentials_is_a_401(client, world: World, headers):
    for path in ("/user/v1/whoami", "/actor/v1/whoami"):
        r = await client.get(path, headers=headers)
        assert r.status_code == 401 and r.content == b"", (path, headers)


async def test_a_token_of_an_old_jwt_secret_is_refused_outright(client, engine, world: World):
    """A password change gives the user a new `jwt_secret`: older tokens get a 401 at
    once, even where a guest could read (device-api.md §0.1)."""
    old = world.alice.headers
    from fleetyard.odata.permissions import Permissions

    await engine.patch(f"/user({world.alice.user})", {"jwt_secret": tokens.new_user_secret()}, Permissions.all())
    for path in ("/actor/v1/whoami", "/v7/device_type?$select=slug"):
        r = await client.get(path, headers=old)
        assert r.status_code == 401, path
    assert (await client.get("/v7/device_type?$select=slug")).status_code == 200


async def test_a_token_of_a_deleted_user_is_refused(client, world: World):
    token = tokens.issue(SECRET, 999_999, "S" * 32)
    r = await client.get("/v7/application", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_the_token_works_in_auth_token_too(client, world: World):
    token = tokens.issue(SECRET, world.bob.user, world.bob.jwt_secret)
    r = await client.get(f"/actor/v1/whoami?auth_token={token}")
    assert r.status_code == 200 and r.json()["username"] == "bob"


async def test_login_gives_a_user_without_a_jwt_secret_one(client, engine, world: World):
    from fleetyard.odata.permissions import Permissions

    await engine.patch(f"/user({world.bob.user})", {"jwt_secret": None}, Permissions.all())
    r = await client.post("/login_", json={"username": "bob", "password": PASSWORD})
    assert r.status_code == 200
    who = await client.get("/user/v1/whoami", headers={"Authorization": f"Bearer {r.text}"})
    assert who.status_code == 200 and who.json()["id"] == world.bob.user
