"""The `fleetyard` command: the serve placeholder, `db migrate`, model loading."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetyard.cli.main import cli
from fleetyard.config import Config
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url

MODEL = "tests.db.aviation:MODEL"


def test_migrate_needs_a_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    for args, message in [
        ([], "no model given"),
        (["--model", "tests.db.aviation"], "MODULE:ATTR"),
        (["--model", "no_such_module:MODEL"], "cannot import"),
        (["--model", "tests.db.aviation:PILOT"], "not a fleetyard Model"),
    ]:
        result = CliRunner().invoke(cli, ["db", "migrate", "--database", url, *args])
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_migrate_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'x.db'}"
    first = CliRunner().invoke(cli, ["db", "migrate", "--database", url, "--model", MODEL])
    assert first.exit_code == 0 and "applied migration(s) 1" in first.output
    again = CliRunner().invoke(cli, ["db", "migrate", "--model", MODEL], env={"FLEETYARD_DATABASE_URL": url})
    assert again.exit_code == 0 and "up to date" in again.output


async def test_migrate_postgres() -> None:
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    await db.close()
    try:
        # asyncpg passes unknown URL parameters on as server settings.
        target = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
        # The command runs its own event loop: give it a thread of its own.
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["db", "migrate", "--database", target, "--model", MODEL]
        )
        assert result.exit_code == 0 and "applied migration(s) 1" in result.output, result.output
    finally:
        await drop_postgres_schema(url, schema)


def test_migrate_reports_database_errors() -> None:
    result = CliRunner().invoke(
        cli, ["db", "migrate", "--database", "mysql://x/y", "--model", MODEL]
    )
    assert result.exit_code == 1 and "unsupported database URL" in result.output


def test_config_from_env() -> None:
    assert Config.from_env({}) == Config("127.0.0.1", 8080, "sqlite:///data/fleetyard.db")
    env = {"FLEETYARD_HOST": "0.0.0.0", "FLEETYARD_PORT": "9000", "FLEETYARD_DATABASE_URL": "postgresql://x/y"}
    assert Config.from_env(env) == Config("0.0.0.0", 9000, "postgresql://x/y")
    with pytest.raises(ValueError):
        Config.from_env({"FLEETYARD_PORT": "http"})
