"""The device issue's benchmark: target-state GETs and state PATCHes from 1,000 devices
against a real `fleetyard serve` (one process), on SQLite and on PostgreSQL.

    python bench/device_state.py [--database sqlite|postgres|both] [--devices 1000] [--duration 10] [--runs 3]

It registers the devices through /device/register, then runs wrk (16 connections) three
ways, each request the next device with its own key: GET /device/v3/:uuid/state with the
device's ETag (the supervisor's steady poll: 304s), the same without it (full bodies),
and PATCH /device/v3/state with a report whose `status` flips on every request (each one
a device write). It prints requests/s (median run) and p50/p99 latency, and the share of
304s. Needs `wrk` (Debian package); PostgreSQL at FLEETYARD_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), where it may create a database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx
from api_reads import empty_database, free_port, latency_ms, start_server

from fleetyard.api.app import server_hooks, server_migrations
from fleetyard.auth import api_keys
from fleetyard.auth.users import create_user
from fleetyard.db import connect
from fleetyard.db.migrations import migrate
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()
START = "2024-05-01T10:00:00.000Z"

LUA = """
local paths = {%s}
local keys = {%s}
local tags = {%s}
local bodies = {%s}
local method = "%s"
local i = 0
request = function()
  i = i + 1
  local n = (i %% #paths) + 1
  local h = {["Authorization"] = "Bearer " .. keys[n]}
  if method == "PATCH" then
    h["Content-Type"] = "application/json"
    local flip = (math.floor(i / #paths) %% 2) + 1
    return wrk.format("PATCH", "/device/v3/state", h, bodies[(n - 1) * 2 + flip])
  end
  if #tags > 0 then h["If-None-Match"] = tags[n] end
  return wrk.format("GET", paths[n], h)
end
threads = {}
setup = function(thread) table.insert(threads, thread) end
n200, n304, nother = 0, 0, 0
response = function(status, headers, body)
  if status == 200 then n200 = n200 + 1 elseif status == 304 then n304 = n304 + 1 else nother = nother + 1 end
end
done = function(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("n200"); b = b + t:get("n304"); c = c + t:get("nother") end
  io.write(string.format("status 200 %%d\\nstatus 304 %%d\\nstatus 0 %%d\\n", a, b, c))
end
"""


def lua_list(items: list[str]) -> str:
    return ", ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)


def wrk(port: int, script: str, seconds: int) -> tuple[float, float, float, dict[int, int]]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", f.name,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    statuses = {int(s): int(n) for s, n in re.findall(r"status (\d+) (\d+)", out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, latency_ms(out, "50%"), latency_ms(out, "99%"), statuses


async def prepare(dialect: str, workdir: Path) -> tuple[str, dict]:
    url = await empty_database(dialect, workdir, "fleetyard_bench_devices")
    db = await connect(url)
    try:
        await migrate(db, MODEL, server_migrations(MODEL))
        engine = Engine(MODEL, db, hooks=server_hooks(MODEL))
        user = await create_user(engine, "benchuser", "bench-password-1")
        ctx = {"__ACTOR_ID": user.actor}
        (dt,) = [r for r in (await _rows(engine, "/device_type?$filter=slug eq 'raspberrypi4-64'&$select=id"))]
        fleet = await engine.post("/application", {"organization": user.organization, "app_name": "benchfleet",
                                                   "is_for__device_type": dt["id"]}, ALL, ctx)
        key = await api_keys.create(engine, fleet["actor"]["__id"], name="bench")
        service = await engine.post("/service", {"application": fleet["id"], "service_name": "main"}, ALL, ctx)
        image = await engine.post("/image", {"is_a_build_of__service": service["id"], "start_timestamp": START,
                                             "status": "success", "push_timestamp": START,
                                             "is_stored_at__image_location": "registry.example/v2/bench"}, ALL, ctx)
        release = await engine.post("/release", {
            "belongs_to__application": fleet["id"], "commit": "b" * 32, "status": "success", "source": "cloud",
            "start_timestamp": START, "composition": {"services": {"main": {"restart": "always"}}}}, ALL, ctx)
        await engine.post("/release_image", {"image": image["id"], "is_part_of__release": release["id"]}, ALL, ctx)
        await engine.patch(f"/application({fleet['id']})", {"should_be_running__release": release["id"]}, ALL, ctx)
        for i in range(5):
            await engine.post("/application_environment_variable", {"application": fleet["id"], "name": f"V{i}",
                                                                    "value": "x" * 20}, ALL, ctx)
        return url, {"fleet": fleet["id"], "fleet_uuid": fleet["uuid"], "key": key}
    finally:
        await db.close()


async def _rows(engine: Engine, url: str) -> list:
    import orjson

    return orjson.loads(await engine.get(url, ALL))["d"]


async def register_all(port: int, world: dict, n: int) -> list[tuple[str, str, str]]:
    """(uuid, device key, etag) of `n` new devices."""
    out: list[tuple[str, str, str]] = []
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        async def one() -> None:
            async with sem:
                uuid = uuidlib.uuid4().hex
                r = await http.post("/device/register", headers={"Authorization": f"Bearer {world['key']}"},
                                    json={"application": world["fleet"], "device_type": "raspberrypi4-64",
                                          "uuid": uuid})
                r.raise_for_status()
                key = r.json()["api_key"]
                s = await http.get(f"/device/v3/{uuid}/state", headers={"Authorization": f"Bearer {key}"})
                s.raise_for_status()
                out.append((uuid, key, s.headers["etag"]))

        await asyncio.gather(*(one() for _ in range(n)))
    return out


def run(dialect: str, args: argparse.Namespace) -> None:
    print(f"== {dialect}")
    workdir = Path(tempfile.mkdtemp(prefix="fleetyard-bench-devices-"))
    url, world = asyncio.run(prepare(dialect, workdir))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETYARD_")}
    env["FLEETYARD_ADMIN_PASSWORD"] = "bench-admin-password"
    proc = start_server(url, port, env)
    try:
        devices = asyncio.run(register_all(port, world, args.devices))
        print(f"  registered {len(devices)} devices")
        paths = lua_list([f"/device/v3/{u}/state" for u, _, _ in devices])
        keys = lua_list([k for _, k, _ in devices])
        bodies = lua_list([f'{{"{u}": {{"status": "{s}", "is_online": true}}}}' for u, _, _ in devices
                           for s in ("Idle", "Running")])
        cases = {
            "GET state, 304": LUA % (paths, keys, lua_list([t for _, _, t in devices]), "", "GET"),
            "GET state, full body": LUA % (paths, keys, "", "", "GET"),
            "PATCH state (a write each)": LUA % (paths, keys, "", bodies, "PATCH"),
        }
        for name, script in cases.items():
            wrk(port, script, 2)  # warm up
            runs = sorted((wrk(port, script, args.duration) for _ in range(args.runs)), key=lambda r: r[0])
            rps, p50, p99, statuses = runs[len(runs) // 2]
            total = sum(statuses.values()) or 1
            shares = ", ".join(f"{s}: {100 * n / total:.1f}%" for s, n in sorted(statuses.items()))
            print(f"  {name:28} {rps:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   ({shares})"
                  f"   runs {statistics.median(r[0] for r in runs):.0f} median of {[round(r[0]) for r in runs]}")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    for dialect in (("sqlite", "postgres") if args.database == "both" else (args.database,)):
        run(dialect, args)


if __name__ == "__main__":
    main()
