"""The device side under `fleetyard serve`, over real HTTP: log streams (both ways) on SQLite and
PostgreSQL, and two server processes on one PostgreSQL and one Redis sharing
heartbeats — devices polling either process stay online, exactly one process expires
devices, and stopping it loses nothing: the other takes the expiry over."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid as uuidlib
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest

from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url
from tests.device.conftest import SECRET, World, balena_engine, make_world
from tests.live import ROOT, running, stop

LEADS = "this process expires devices"
FAST_ENV = {"FLEETYARD_MIN_POLL_INTERVAL_MS": "600", "FLEETYARD_HEARTBEAT_GRACE_MS": "300",
            "FLEETYARD_JWT_SECRET": SECRET, "FLEETYARD_ADMIN_PASSWORD": "an admin password 123"}


def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379: CI must run the multi-process test")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


@contextmanager
def server(database_url: str, log_path: Path, extra: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    with running(database_url, log_path, env={**FAST_ENV, **extra}) as up:
        yield up


async def _prepare(dialect: str, tmp_path: Path) -> AsyncIterator[tuple[str, World]]:
    """A database URL with the world in it (written before the servers start)."""
    from fleetyard.db import connect

    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'serve.db'}"
        db = await connect(url)
        try:
            yield url, await make_world(await balena_engine(db))
        finally:
            await db.close()
        return
    base = postgres_url()
    db, schema = await open_postgres_schema(base)
    try:
        yield f"{base}{'&' if '?' in base else '?'}search_path={schema}", await make_world(await balena_engine(db))
    finally:
        await db.close()
        await drop_postgres_schema(base, schema)


@pytest.fixture(params=["sqlite", "postgres"])
async def prepared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, World]]:
    async for value in _prepare(request.param, tmp_path):
        yield value


@pytest.fixture
async def prepared_postgres(tmp_path: Path) -> AsyncIterator[tuple[str, World]]:
    """Several server processes serve one PostgreSQL (a SQLite file has one writer)."""
    async for value in _prepare("postgres", tmp_path):
        yield value


async def register(http: httpx.AsyncClient, w: World) -> tuple[str, dict[str, str]]:
    uuid = uuidlib.uuid4().hex
    r = await http.post("/device/register", headers={"Authorization": f"Bearer {w.provisioning_key}"},
                        json={"application": w.fleet, "device_type": "raspberrypi4-64", "uuid": uuid})
    assert r.status_code == 201, r.text
    return uuid, {"Authorization": f"Bearer {r.json()['api_key']}"}


async def heartbeat(w: World, uuid: str) -> str:
    return (await w.one(f"/device?$filter=uuid eq '{uuid}'&$select=api_heartbeat_state"))["api_heartbeat_state"]


async def until(w: World, uuid: str, state: str, limit: float = 10.0) -> str:
    deadline = time.monotonic() + limit
    while (now := await heartbeat(w, uuid)) != state and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return now


async def test_a_log_stream_over_http(prepared, tmp_path: Path):
    url, w = prepared
    with server(url, tmp_path / "a.log", {}) as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            uuid, device = await register(http, w)
            logs = f"/device/v2/{uuid}/logs"
            await http.post(logs, headers=device, json=[{"message": "before", "timestamp": 1}])
            got: list[str] = []

            async def read() -> None:
                async with http.stream("GET", logs + "?stream=1&count=5", headers=w.alice.headers) as r:
                    assert r.headers["content-type"].startswith("application/x-ndjson")
                    async for line in r.aiter_lines():
                        if line.strip():
                            got.append(orjson.loads(line)["message"])
                        if len(got) == 2:
                            return

            reader = asyncio.create_task(read())
            while not got:
                await asyncio.sleep(0.02)
            await http.post(logs, headers=device, json=[{"message": "live", "timestamp": 2}])
            await asyncio.wait_for(reader, 10)
            assert got == ["before", "live"]

            # The supervisor's way: one gzipped NDJSON upload, chunked and kept open; its
            # lines are readable while it still runs.
            async def upload() -> AsyncIterator[bytes]:
                z = zlib.compressobj(wbits=31)
                yield z.compress(orjson.dumps({"message": "streamed", "timestamp": 3}) + b"\n") \
                    + z.flush(zlib.Z_SYNC_FLUSH)
                deadline = time.monotonic() + 10
                while "streamed" not in [x["message"] for x in (await http.get(logs, headers=w.alice.headers)).json()]:
                    assert time.monotonic() < deadline, "a streamed line was not stored while the upload ran"
                    await asyncio.sleep(0.1)
                yield z.compress(orjson.dumps({"message": "closing", "timestamp": 4}) + b"\n") + z.flush()

            r = await http.post(f"/device/v2/{uuid}/log-stream", content=upload(), headers={
                **device, "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
            assert (r.status_code, r.content) == (201, b"")
            stored = [x["message"] for x in (await http.get(logs, headers=w.alice.headers)).json()]
            assert stored == ["before", "live", "streamed", "closing"]
        # `fleetyard simulate` against the same server, with alice's token.
        slug = (await w.one(f"/application({w.fleet})?$select=slug"))["slug"]
        token = w.alice.headers["Authorization"].split()[1]
        done = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "fleetyard.cli.main", "simulate", "--url", base, "--fleet", slug, "--token", token,
            "--devices", "3", "--duration", "1", "--interval", "0.2"], cwd=ROOT, capture_output=True, text=True,
            timeout=60)
        assert done.returncode == 0, done.stderr
        assert "3 devices registered" in done.stdout and ", 0 errors" in done.stdout, done.stdout + done.stderr


async def test_two_processes_share_heartbeats_through_redis(prepared_postgres, tmp_path: Path):
    url, w = prepared_postgres
    shared = {"FLEETYARD_REDIS_URL": redis_url(), "FLEETYARD_REDIS_PREFIX": f"fy-test-{uuidlib.uuid4().hex}:"}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with server(url, logs[0], shared) as (a, proc_a), server(url, logs[1], shared) as (b, proc_b):
        async with httpx.AsyncClient(base_url=a, timeout=10) as ha, httpx.AsyncClient(base_url=b, timeout=10) as hb:
            devices = [await register(ha, w) for _ in range(3)]

            async def poll(http: httpx.AsyncClient, i: int) -> None:
                uuid, headers = devices[i]
                assert (await http.get(f"/device/v3/{uuid}/state", headers=headers)).status_code == 200

            async def steady(seconds: float, clients: list[httpx.AsyncClient]) -> None:
                """Devices 0 and 1 poll every 150 ms, each turn on the next process."""
                end, turn = time.monotonic() + seconds, 0
                while time.monotonic() < end:
                    for i in (0, 1):
                        await poll(clients[(turn + i) % len(clients)], i)
                    turn += 1
                    await asyncio.sleep(0.15)
                    for i in (0, 1):
                        assert await heartbeat(w, devices[i][0]) == "online"

            await poll(hb, 2)  # device 2 polls once, on B, then falls silent
            await steady(2.0, [ha, hb])
            assert await until(w, devices[2][0], "offline") == "offline"
            texts = [p.read_text() for p in logs]
            assert [t.count(LEADS) for t in texts].count(1) == 1 and sum(t.count(LEADS) for t in texts) == 1, texts
            # A poll on one process, seen by the other's 304.
            first = await ha.get(f"/device/v3/{devices[0][0]}/state", headers=devices[0][1])
            again = await hb.get(f"/device/v3/{devices[0][0]}/state",
                                 headers={**devices[0][1], "If-None-Match": first.headers["etag"]})
            assert again.status_code == 304

            # The expirer stops; the other process keeps every device's state and takes over.
            leader, survivor = (proc_a, hb) if LEADS in texts[0] else (proc_b, ha)
            stop(leader)
            await steady(4.0, [survivor])  # devices polling the survivor stay online throughout
            other_log = logs[1] if leader is proc_a else logs[0]
            deadline = time.monotonic() + 10
            while LEADS not in other_log.read_text() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)  # the lease lapses (or was given up): the survivor takes it
            assert LEADS in other_log.read_text()
            await poll(survivor, 2)
            assert await heartbeat(w, devices[2][0]) == "online"
            assert await until(w, devices[2][0], "timeout") == "timeout"
            assert await until(w, devices[2][0], "offline") == "offline"
