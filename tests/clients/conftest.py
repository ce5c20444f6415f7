"""A real `fleetyard serve` per client and database, with the user the scenarios log in as.

Each client's scenario gets a server of its own (Granian on a free loopback port) on a
throw-away database: a SQLite file, or a fresh PostgreSQL database created beside
FLEETYARD_TEST_POSTGRES_URL's and dropped afterwards. The user `testuser` is an ordinary
user with its personal organization (clients.md §7), made with `fleetyard user add`; the
bootstrap admin exists only because serve wants one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients import tools
from tests.live import ROOT, running
from tests.live import fresh_database as throwaway_database

USERNAME, EMAIL, PASSWORD = "testuser", "testuser+testsdk@example.com", "testuser-Passw0rd"


@dataclass(frozen=True)
class Fleetyard:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    database_url: str
    log: Path
    username: str = USERNAME
    email: str = EMAIL
    password: str = PASSWORD

    def env(self) -> dict[str, str]:
        """What the scenario scripts read."""
        return {"FLEETYARD_URL": self.url, "FLEETYARD_USERNAME": self.username,
                "FLEETYARD_EMAIL": self.email, "FLEETYARD_PASSWORD": self.password}


@contextmanager
def serving(database_url: str, tmp: Path) -> Iterator[Fleetyard]:
    log_path = tmp / "server.log"
    env = {"FLEETYARD_ADMIN_USERNAME": "fleetadmin", "FLEETYARD_ADMIN_PASSWORD": "fleetadmin-Passw0rd"}
    with running(database_url, log_path, env=env) as (base, _):
        done = subprocess.run(
            [sys.executable, "-m", "fleetyard.cli.main", "user", "add", USERNAME, "--email", EMAIL,
             "--password", PASSWORD, "--database", database_url],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, f"fleetyard user add failed:\n{done.stdout}{done.stderr}"
        yield Fleetyard(base, database_url, log_path)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fleetyard(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleetyard]:
    """A server with `testuser`, on each database, for one client module's scenario."""
    tmp = tmp_path_factory.mktemp(f"clients-{request.param}")
    with throwaway_database(request.param, tmp) as url, serving(url, tmp) as server:
        yield server


def installed(install, what: str):
    """`install()`, or a skip saying why not — a failure where the clients are required (CI)."""
    try:
        return install()
    except tools.Unavailable as e:
        message = f"{what} is not available: {e}"
        if os.environ.get(tools.REQUIRE_VAR):
            pytest.fail(f"{message} ({tools.REQUIRE_VAR} is set: the client tests must run)")
        pytest.skip(message)
