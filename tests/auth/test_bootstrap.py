"""The start-up of a server with accounts (spec/decisions.md "Running it"): the admin from
the environment, once; a generated admin password on a fresh database, printed once; the
JWT signing secret kept in the database across restarts. On both databases."""

from __future__ import annotations

import jwt

from fleetyard.api import create_app
from fleetyard.auth import store
from fleetyard.auth.bootstrap import AuthSettings, bootstrap
from tests.api.conftest import engine_factory, serving


def test_settings_come_from_the_environment():
    env = {"FLEETYARD_JWT_SECRET": "s" * 40, "FLEETYARD_ADMIN_USERNAME": "root",
           "FLEETYARD_ADMIN_PASSWORD": "pw-pw-pw-pw", "FLEETYARD_ADMIN_EMAIL": "root@example.com"}
    assert AuthSettings.from_env(env) == AuthSettings("s" * 40, "root", "pw-pw-pw-pw", "root@example.com")
    assert AuthSettings.from_env({"FLEETYARD_JWT_SECRET": ""}) == AuthSettings()
    assert AuthSettings.from_env({"FLEETYARD_SIGNUP": "open"}).signup
    assert not AuthSettings.from_env({"FLEETYARD_SIGNUP": "closed"}).signup


async def test_the_role_rows_are_there_once(engine):
    """Organization, fleet and key roles (decisions.md, device-api.md §0.3), however often
    the server starts."""
    from tests.auth.conftest import d

    for _ in range(2):
        await bootstrap(engine, AuthSettings(jwt_secret="x" * 40))
    assert [r["name"] for r in await d(engine, "/organization_membership_role?$orderby=name asc")] == [
        "administrator", "member"]
    assert [r["name"] for r in await d(engine, "/application_membership_role?$orderby=name asc")] == [
        "developer", "observer", "operator"]
    names = {r["name"] for r in await d(engine, "/role")}
    assert {"named-user-api-key", "provisioning-api-key", "device-api-key"} <= names


async def test_the_admin_of_the_environment_is_created_once_as_a_superuser(engine):
    settings = AuthSettings(admin_username="Root", admin_password="root-password",
                            admin_email="root@example.com")
    said: list[str] = []
    await bootstrap(engine, settings, announce=said.append)
    await bootstrap(engine, settings, announce=said.append)
    assert said == []  # the password was given, so nothing is printed
    root = await store.user_by_login(engine.db, "root@example.com")
    assert root is not None and root.username == "root" and root.superuser
    assert await store.count_users(engine.db) == 1
    # with its organization, administered by it
    async with serving(create_app(engine_factory(engine), auth=settings)) as client:
        r = await client.post("/login_", json={"username": "root", "password": "root-password"})
        h = {"Authorization": f"Bearer {r.text}"}
        r = await client.get("/v7/organization?$select=handle&$expand=organization_membership("
                             "$select=user;$expand=organization_membership_role($select=name))"
                             "&$filter=handle eq 'root'", headers=h)
        [org] = r.json()["d"]
        [membership] = org["organization_membership"]
        assert membership["user"] == {"__id": root.id}
        assert membership["organization_membership_role"] == [{"name": "administrator"}]
        # a superuser reads what no user may (spec/model.md §5.2 'root')
        assert (await client.get("/v7/config", headers=h)).status_code == 200


async def test_the_admin_of_the_environment_joins_a_database_with_users(engine):
    await bootstrap(engine, AuthSettings(admin_username="first", admin_password="first-password"))
    await bootstrap(engine, AuthSettings(admin_username="second", admin_password="second-password"))
    assert await store.count_users(engine.db) == 2


async def test_a_fresh_database_gets_an_admin_with_a_password_printed_once(engine):
    said: list[str] = []
    await bootstrap(engine, AuthSettings(), announce=said.append)
    await bootstrap(engine, AuthSettings(), announce=said.append)
    assert len(said) == 1 and "'admin'" in said[0]
    password = said[0].split("password ")[1].split(" ")[0]
    admin = await store.user_by_login(engine.db, "admin")
    assert admin is not None and admin.superuser
    async with serving(create_app(engine_factory(engine), auth=AuthSettings())) as client:
        r = await client.post("/login_", json={"username": "admin", "password": password})
        assert r.status_code == 200
        who = await client.get("/user/v1/whoami", headers={"Authorization": f"Bearer {r.text}"})
        assert who.json() == {"id": admin.id, "username": "admin", "email": None}


async def test_no_generated_admin_when_users_exist(engine):
    await bootstrap(engine, AuthSettings(admin_username="owner", admin_password="owner-password"))
    said: list[str] = []
    await bootstrap(engine, AuthSettings(), announce=said.append)
    assert said == [] and await store.count_users(engine.db) == 1


async def test_the_jwt_secret_persists_across_restarts(engine):
    settings = AuthSettings(admin_username="root", admin_password="root-password")
    first = await bootstrap(engine, settings)
    second = await bootstrap(engine, settings)
    assert first.signing_secret == second.signing_secret and len(first.signing_secret) >= 32
    async with serving(create_app(engine_factory(engine), auth=settings)) as client:
        token = (await client.post("/login_", json={"username": "root", "password": "root-password"})).text
    jwt.decode(token, first.signing_secret, algorithms=["HS256"])
    # a new app on the same database (a restart) accepts the token
    async with serving(create_app(engine_factory(engine), auth=settings)) as client:
        r = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["username"] == "root"


async def test_the_environment_secret_wins(engine):
    env_secret = "from-the-environment-" + "e" * 20
    settings = AuthSettings(jwt_secret=env_secret, admin_username="root", admin_password="root-password")
    assert (await bootstrap(engine, settings)).signing_secret == env_secret
    async with serving(create_app(engine_factory(engine), auth=settings)) as client:
        token = (await client.post("/login_", json={"username": "root", "password": "root-password"})).text
    jwt.decode(token, env_secret, algorithms=["HS256"])
    # the environment's secret is never written to the database
    stored = (await bootstrap(engine, AuthSettings())).signing_secret
    assert stored != env_secret
