"""`fleetyard user add`, `user key` and `org add` against a database URL, on SQLite and
PostgreSQL; what they create is checked through the server's own lookups."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result

from fleetyard.api import create_app
from fleetyard.auth import store
from fleetyard.cli.main import cli
from fleetyard.db import connect
from tests.api.conftest import engine_factory, serving
from tests.auth.conftest import AUTH, balena_engine, d


async def run(*args: str) -> Result:
    """The command in a thread of its own: it runs its own event loop."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_user_add_key_and_org_add(database_url: str):
    r = await run("user", "add", "Carol", "--email", "carol@example.com", "--password", "carol-password",
                  "--database", database_url)
    assert r.exit_code == 0, r.output
    assert "created user carol" in r.output
    r = await run("user", "key", "carol", "--database", database_url)
    assert r.exit_code == 0, r.output
    key = r.output.strip()
    assert len(key) == 32 and key.isalnum()
    r = await run("org", "add", "carols_team", "--owner", "carol", "--database", database_url)
    assert r.exit_code == 0 and "created organization carols_team" in r.output, r.output

    db = await connect(database_url)
    try:
        engine = await balena_engine(db)
        carol = await store.user_by_login(db, "carol@example.com")
        assert carol is not None and carol.username == "carol" and not carol.superuser
        orgs = await d(engine, f"/organization?$select=handle&$orderby=handle asc&$filter=organization_membership/any("
                               f"m:m/user eq {carol.id} and m/organization_membership_role/any(r:r/name eq 'administrator'))")
        assert orgs == [{"handle": "carol"}, {"handle": "carols_team"}]
        async with serving(create_app(engine_factory(engine), auth=AUTH)) as client:
            r = await client.post("/login_", json={"username": "carol", "password": "carol-password"})
            assert r.status_code == 200
            r = await client.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200 and r.json()["username"] == "carol"
            r = await client.get("/v7/organization?$select=handle&$orderby=handle asc",
                                 headers={"Authorization": f"Bearer {key}"})
            assert r.json()["d"] == [{"handle": "carol"}, {"handle": "carols_team"}]
    finally:
        await db.close()


async def test_superuser_flag(database_url: str):
    r = await run("user", "add", "root", "--password", "root-password", "--superuser", "--database", database_url)
    assert r.exit_code == 0, r.output
    db = await connect(database_url)
    try:
        root = await store.user_by_login(db, "root")
        assert root is not None and root.superuser
    finally:
        await db.close()


async def test_refusals_are_clear(database_url: str):
    ok = await run("user", "add", "dave", "--password", "dave-password", "--database", database_url)
    assert ok.exit_code == 0, ok.output
    for args, message in (
        (["user", "add", "dave", "--password", "other-password"], "This username is already taken"),
        (["user", "add", "eve", "--password", "short"], "at least 8 characters"),
        (["user", "add", "e v e", "--password", "eve-password"], "alphanumeric"),
        (["user", "add", "eve", "--password", "eve-password", "--email", "nope"], "Invalid email"),
        (["user", "key", "nobody"], "No user named 'nobody'"),
        (["org", "add", "dave", "--owner", "dave"], '"handle" must be unique.'),
        (["org", "add", "Team", "--owner", "dave"], "lowercase"),
        (["org", "add", "team", "--owner", "nobody"], "No user named 'nobody'"),
    ):
        r = await run(*args, "--database", database_url)
        assert r.exit_code == 1 and message in r.output, (args, r.output)


def test_user_add_prompts_for_the_password(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'prompt.db'}"
    r = CliRunner().invoke(cli, ["user", "add", "frank", "--database", url], input="frank-password\nfrank-password\n")
    assert r.exit_code == 0 and "created user frank" in r.output, r.output
    assert "frank-password" not in r.output
