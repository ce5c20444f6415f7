"""A real `fleetyard serve` process for the dashboard's and the operator CLI's tests, on a
fresh SQLite file or a fresh PostgreSQL database, with the timings shortened so that
simulated devices go online and offline within seconds; and the simulated devices.

Devices speak the device API as a supervisor would (spec/device-api.md): a device key from
`/api-key/device/<id>/device-key`, state fetches that keep its heartbeat online, the VPN
service's client-connect and client-disconnect, and log lines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[1]
ADMIN, ADMIN_PASSWORD = "yardadmin", "yard-admin-password-1"
VPN_KEY = "vpn-service-key-for-tests-0123456789"
VPN_INSTANCE = 1  # the VPN instance the devices connect through (cloudlink makes its row)
POLL_MS = 3000  # a device times out 1.5 polls after its last state fetch…
GRACE_MS = 500  # …and is offline this much later


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database(dialect: str, tmp: Path) -> Iterator[str]:
    if dialect == "sqlite":
        yield f"sqlite:///{tmp / 'live.db'}"
        return
    admin = postgres_url()
    name = "fy_live_" + uuid.uuid4().hex[:10]

    async def run(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def sql(text: str) -> None:
        # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: asyncio.run(run(text))).result()

    sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fleetyard(*args: str, env: dict[str, str] | None = None, input: str | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The `fleetyard` command, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "fleetyard.cli.main", *args], check=False, cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, input=input, timeout=timeout)


@dataclass
class Server:
    base: str
    database_url: str
    log: Path

    def login(self, username: str, password: str) -> str:
        r = httpx.post(self.base + "/login_", json={"username": username, "password": password}, timeout=30)
        assert r.status_code == 200, r.text
        return r.text.strip()

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def add_user(self, username: str, password: str) -> None:
        done = fleetyard("user", "add", username, "--password", password, "--database", self.database_url)
        assert done.returncode == 0, done.stderr + done.stdout

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running(database_url: str, log_path: Path, *, env: dict[str, str] | None = None, args: tuple[str, ...] = (),
            timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """`fleetyard serve` on a free loopback port, as a user starts it: (its base URL, the
    process) once it answers /ping. It sees none of the test run's FLEETYARD_ settings,
    only `env`; its output goes to `log_path`. Stopped with SIGINT, as Granian expects."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLEETYARD_")}
    environ.update(env or {})
    base = f"http://127.0.0.1:{port}"
    with log_path.open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleetyard.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--database", database_url, *args],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"fleetyard serve exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                if httpx.get(base + "/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"fleetyard serve did not answer within {timeout:.0f} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.1)
        yield base, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serve(dialect: str, tmp: Path) -> Iterator[Server]:
    with fresh_database(dialect, tmp) as url:
        log_path = tmp / f"server-{dialect}.log"
        env = {"FLEETYARD_ADMIN_USERNAME": ADMIN, "FLEETYARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
               "FLEETYARD_MIN_POLL_INTERVAL_MS": str(POLL_MS), "FLEETYARD_HEARTBEAT_GRACE_MS": str(GRACE_MS),
               "FLEETYARD_VPN_SERVICE_API_KEY": VPN_KEY}
        with running(url, log_path, env=env) as (base, _):
            yield Server(base, url, log_path)


# --- what the tests build: fleets, releases and devices of a user --------------------------


def d(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["d"]


def organization_id(api: httpx.Client, handle: str) -> int:
    (org,) = d(api.get("/v7/organization", params={"$filter": f"handle eq '{handle}'", "$select": "id"}))
    return org["id"]


def device_type_id(api: httpx.Client, slug: str = "raspberrypi4-64") -> int:
    (dt,) = d(api.get(f"/v7/device_type(slug='{slug}')", params={"$select": "id"}))
    return dt["id"]


def create_fleet(api: httpx.Client, org: int, name: str) -> dict:
    r = api.post("/v7/application", json={"app_name": name, "organization": org,
                                          "is_for__device_type": device_type_id(api)})
    assert r.status_code == 201, r.text
    return r.json()


def create_release(api: httpx.Client, fleet: int, commit: str, semver: str, day: int) -> dict:
    r = api.post("/v7/release", json={
        "belongs_to__application": fleet, "commit": commit, "composition": {}, "status": "success",
        "source": "cloud", "start_timestamp": f"2026-01-{day:02d}T00:00:00.000Z", "semver": semver})
    assert r.status_code == 201, r.text
    return r.json()


@dataclass
class Device:
    """A simulated device: registered by its owner, speaking with its own key."""

    server: Server
    id: int
    uuid: str
    name: str
    key: str
    _poller: threading.Thread | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def fetch_state(self) -> None:
        with self.http() as c:
            r = c.get(f"/device/v3/{self.uuid}/state")
            assert r.status_code in (200, 304), r.text

    def report(self, **fields: Any) -> None:
        """A state report (PATCH /device/v3/state) of the device's own fields."""
        with self.http() as c:
            r = c.patch("/device/v3/state", json={self.uuid: fields})
            assert r.status_code == 200, r.text

    def logs(self, *messages: str) -> None:
        now = int(time.time() * 1000)
        with self.http() as c:
            r = c.post(f"/device/v2/{self.uuid}/logs",
                       json=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
            assert r.status_code == 201, r.text

    def connect(self) -> None:
        """Online: the VPN reports it connected, and it polls its state until `disconnect`."""
        vpn(self.server, "client-connect", [self.uuid])
        self.fetch_state()
        self._stop.clear()

        def poll() -> None:
            while not self._stop.wait(POLL_MS / 3000):  # three fetches a poll interval
                try:
                    self.fetch_state()
                except Exception:  # noqa: BLE001 — the server stopping ends a test, not this thread
                    return

        self._poller = threading.Thread(target=poll, daemon=True)
        self._poller.start()

    def disconnect(self) -> None:
        """Gone: it stops polling and the VPN reports it disconnected; its heartbeat times out."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
        vpn(self.server, "client-disconnect", [self.uuid])


def add_device(server: Server, api: httpx.Client, fleet: int, name: str) -> Device:
    new_uuid = uuid.uuid4().hex
    r = api.post("/v7/device", json={"belongs_to__application": fleet, "is_of__device_type": device_type_id(api),
                                     "device_name": name, "uuid": new_uuid})
    assert r.status_code == 201, r.text
    device_id = r.json()["id"]
    r = api.post(f"/api-key/device/{device_id}/device-key", json={})
    assert r.status_code == 200, r.text
    return Device(server, device_id, new_uuid, name, r.json())


def vpn(server: Server, action: str, uuids: list[str], instance: int = VPN_INSTANCE) -> None:
    r = httpx.post(f"{server.base}/services/vpn/{action}", params={"apikey": VPN_KEY},
                   json={"uuids": uuids, "serviceId": instance}, timeout=30)
    assert r.status_code == 200, r.text


def wait_for(check: Callable[[], Any], timeout: float = 20, what: str = "a condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
