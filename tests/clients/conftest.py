"""A real `fleetyard serve` per client and database, with the user the scenarios log in as.

Each client's scenario gets a server of its own (Granian on a free loopback port) on a
throw-away database: a SQLite file, or a fresh PostgreSQL database created beside
FLEETYARD_TEST_POSTGRES_URL's and dropped afterwards. The user `testuser` is an ordinary
user with its personal organization (clients.md §7), made with `fleetyard user add`; the
bootstrap admin exists only because serve wants one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clients import tools
from tests.live import free_port
from tests.live import fresh_database as throwaway_database

ROOT = Path(__file__).resolve().parents[2]
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
    port = free_port()
    log_path = tmp / "server.log"
    env = {**os.environ, "FLEETYARD_ADMIN_USERNAME": "fleetadmin",
           "FLEETYARD_ADMIN_PASSWORD": "fleetadmin-Passw0rd"}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleetyard.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--database", database_url],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Fleetyard(f"http://127.0.0.1:{port}", database_url, log_path)
    try:
        _wait_until_up(proc, server)
        done = subprocess.run(
            [sys.executable, "-m", "fleetyard.cli.main", "user", "add", USERNAME, "--email", EMAIL,
             "--password", PASSWORD, "--database", database_url],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, f"fleetyard user add failed:\n{done.stdout}{done.stderr}"
        yield server
    finally:
        proc.send_signal(signal.SIGINT)  # Granian stops its workers on SIGINT
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen, server: Fleetyard) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"fleetyard serve exited with {proc.returncode}:\n{server.log.read_text()}")
        try:
            if httpx.get(server.url + "/ping", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"fleetyard serve did not answer within 60 s:\n{server.log.read_text()}")
        time.sleep(0.1)


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
