"""Seeding: once per database (migration 2), idempotent when run again, filling gaps and
never touching what is there; the server's start-up and `fleetyard db migrate` both seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from fleetyard.api.app import AppSettings, open_engine, server_migrations
from fleetyard.catalogue import host_os, migrations, seed_catalogue
from fleetyard.catalogue.device_types import DEVICE_TYPES
from fleetyard.cli.main import cli
from fleetyard.db.migrations import migrate, model_migrations
from fleetyard.domain import HOOKS
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url
from tests.odata.model import MODEL as TEST_MODEL

ALL = Permissions.all()
CATALOGUE = ("cpu_architecture", "device_manufacturer", "device_family", "device_type",
             "device_type_alias", "application_type", "organization", "actor", "application", "release")


async def snapshot(engine: Engine) -> dict[str, list]:
    """Every catalogue row, every field (modified_at included: nothing may be rewritten)."""
    return {r: orjson.loads(await engine.get(f"/{r}?$orderby=id asc", ALL))["d"] for r in CATALOGUE}


async def test_seeding_again_changes_nothing(engine: Engine) -> None:
    before = await snapshot(engine)
    assert await seed_catalogue(engine) == {}
    assert await seed_catalogue(engine) == {}
    assert await snapshot(engine) == before
    assert await migrate(engine.db, MODEL, server_migrations(MODEL)) == []
    assert len(before["device_type"]) == len(DEVICE_TYPES)
    assert len(before["actor"]) == len(before["application"]) == len(DEVICE_TYPES)


async def test_seeding_fills_only_the_gaps(engine: Engine) -> None:
    await engine.delete("/device_type_alias?$filter=is_referenced_by__alias eq 'nuc'", ALL)
    fleet = "application(slug='balena_os/raspberrypi5')"
    await engine.patch(f"/{fleet}", {"should_be_running__release": None}, ALL)
    assert await engine.delete(
        "/release?$filter=belongs_to__application/any(a:a/slug eq 'balena_os/raspberrypi5')", ALL) == 1
    before = await snapshot(engine)
    assert await seed_catalogue(engine) == {"device_type_alias": 1, "release": 1}
    after = await snapshot(engine)
    for resource in set(CATALOGUE) - {"device_type_alias", "release", "application"}:
        assert after[resource] == before[resource]
    assert [a for a in after["device_type_alias"] if a["is_referenced_by__alias"] == "nuc"]
    (target,) = orjson.loads(await engine.get(f"/{fleet}?$select=should_be_running__release", ALL))["d"]
    assert target["should_be_running__release"] == {"__id": after["release"][-1]["id"]}


async def test_the_catalogue_is_one_transaction(engine: Engine, monkeypatch) -> None:
    """A failure halfway leaves nothing of that run behind."""
    # Gaps early (an alias) and late (a host fleet) in the seed's order.
    await engine.delete("/device_type_alias?$filter=is_referenced_by__alias eq 'nuc'", ALL)
    fleet = "/application(slug='balena_os/raspberrypi5')"
    await engine.patch(fleet, {"should_be_running__release": None}, ALL)
    await engine.delete("/release?$filter=belongs_to__application/any(a:a/slug eq 'balena_os/raspberrypi5')", ALL)
    assert await engine.delete(fleet, ALL) == 1
    before = await snapshot(engine)

    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("halfway")

    monkeypatch.setattr(host_os, "fleet", broken)
    with pytest.raises(RuntimeError, match="halfway"):
        await seed_catalogue(engine)
    assert await snapshot(engine) == before  # the alias it had added is rolled back too
    monkeypatch.undo()
    added = await seed_catalogue(engine)
    assert added == {"device_type_alias": 1, "actor": 1, "application": 1, "release": 1}


async def test_the_same_catalogue_through_the_domain_rules(database) -> None:
    """The server's engine carries the business rules (`domain.HOOKS`): seeding through it
    writes the same rows, and no actor beside the ones the fleet rules create."""
    await migrate(database, MODEL)  # the schema alone
    ruled = Engine(MODEL, database, hooks=HOOKS)
    added = await seed_catalogue(ruled)
    assert added["application"] == added["release"] == len(DEVICE_TYPES)
    assert await seed_catalogue(ruled) == {}
    rows = await snapshot(ruled)
    assert len(rows["actor"]) == len(DEVICE_TYPES)
    url = ("/application?$filter=is_host eq true&$select=slug,uuid,is_public,should_be_running__release"
           "&$expand=owns__release($select=id,raw_version,revision,is_final,status)")
    for fleet in orjson.loads(await ruled.get(url, ALL))["d"]:
        (release,) = fleet["owns__release"]
        assert (release["raw_version"], release["revision"], release["is_final"], release["status"]) == (
            "6.1.24", 0, True, "success")
        assert fleet["should_be_running__release"] == {"__id": release["id"]} and fleet["is_public"]
    # the same uuids as without the rules: they derive from the slug
    uuids = {f["slug"]: f["uuid"] for f in rows["application"]}
    assert uuids["balena_os/raspberrypi5"] == host_os.fleet(
        "raspberrypi5", device_type_id=0, organization=0, actor=0, application_type=0)["uuid"]


def test_only_a_model_that_holds_the_catalogue_gets_it() -> None:
    assert [m.version for m in migrations(MODEL)] == [2]
    assert migrations(TEST_MODEL) == []
    assert [m.version for m in server_migrations(TEST_MODEL)] == [1]
    assert [m.version for m in server_migrations(MODEL)] == [1, 2]
    assert [m.version for m in model_migrations(MODEL)] == [1]  # the schema alone stays bare


async def _serves_the_catalogue(settings: AppSettings) -> None:
    for _ in range(2):  # starting again migrates nothing and seeds nothing twice
        async with open_engine(settings) as engine:
            rows = orjson.loads(await engine.get("/device_type(slug='raspberrypi5')?$select=name", ALL))["d"]
            assert rows == [{"name": "Raspberry Pi 5"}]
            assert orjson.loads(await engine.get("/device_type/$count", ALL))["d"] == len(DEVICE_TYPES)


async def test_the_server_seeds_on_start_sqlite(tmp_path: Path) -> None:
    await _serves_the_catalogue(AppSettings(f"sqlite:///{tmp_path / 'server.db'}", MODEL))


async def test_the_server_seeds_on_start_postgres() -> None:
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    await db.close()
    try:
        options = {"pool_size": 2, "server_settings": {"search_path": schema}}
        await _serves_the_catalogue(AppSettings(url, MODEL, options))
    finally:
        await drop_postgres_schema(url, schema)


BALENA = "fleetyard.model.balena:MODEL"


def test_db_migrate_seeds_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = CliRunner().invoke(cli, ["db", "migrate", "--database", url, "--model", BALENA])
    assert first.exit_code == 0 and "applied migration(s) 1, 2" in first.output, first.output
    again = CliRunner().invoke(cli, ["db", "migrate", "--database", url, "--model", BALENA])
    assert again.exit_code == 0 and "up to date" in again.output


async def test_db_migrate_seeds_postgres() -> None:
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    try:
        target = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["db", "migrate", "--database", target, "--model", BALENA])
        assert result.exit_code == 0 and "applied migration(s) 1, 2" in result.output, result.output
        assert await db.fetch_value("SELECT count(*) FROM device_type") == len(DEVICE_TYPES)
    finally:
        await db.close()
        await drop_postgres_schema(url, schema)
