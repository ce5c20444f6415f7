"""The server issue's benchmark: three reads against a real `fleetyard serve`, on SQLite
and on PostgreSQL, with 1 organization, 100 fleets and 10,000 devices (two tags and one
environment variable on each).

    python bench/api_reads.py [--database sqlite|postgres|both] [--duration 10] [--runs 3]

For each read it prints requests/s (median of the runs) and the median run's p50/p99
latency from wrk (16 connections, one server process), then the same statement run
straight on the database by 16 concurrent callers in this process (the floor, without
permission filters) and the ratio of the two — once as a superuser (no permission
filter, as the reference was measured) and once as a plain member of the organization. Each request picks the next of 100 fleets (or device uuids), so no
answer is served twice in a row. The reference server answered 261, 219 and 333
requests/s on PostgreSQL on these machines; the goal is three times that.

Needs `wrk` (Debian package) and, for PostgreSQL, a server at FLEETYARD_BENCH_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres) where it may create a database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fleetyard.db import connect  # noqa: E402
from fleetyard.db.migrations import migrate  # noqa: E402
from fleetyard.model.balena import MODEL  # noqa: E402
from fleetyard.odata.engine import Engine  # noqa: E402
from fleetyard.odata.permissions import Permissions  # noqa: E402

ORG = "benchorg"
FLEETS, DEVICES = 100, 10_000
REFERENCE = {"a": 261, "b": 219, "c": 333}
ADMIN = ("benchadmin", "bench-password-1")
MEMBER = ("benchmember", "bench-password-2")  # the Node.js server, PostgreSQL, 16 connections


def uuid_of(i: int) -> str:
    return f"{i:032x}"


def reads() -> dict[str, list[str]]:
    """Each read's URLs (after /v7), one per fleet or device, cycled through by wrk."""
    a = [f"/application?$filter=organization/any(o:o/handle eq '{ORG}')"]
    b = [
        f"/device?$filter=belongs_to__application/any(a:a/slug eq '{quote(f'{ORG}/fleet-{n}', safe='')}')"
        "&$select=id,uuid,device_name,overall_status&$expand=device_tag($select=tag_key,value)&$top=100"
        for n in range(1, FLEETS + 1)
    ]
    c = [f"/device(uuid='{uuid_of(i)}')" for i in range(1, DEVICES + 1, DEVICES // 100)]
    return {"a": a, "b": b, "c": c}


# --- the data -----------------------------------------------------------------------------


async def seed(db) -> None:
    """Write the rows with plain INSERTs (the engine's POST would take minutes for 40k rows)."""
    p = (lambda n: f"${n}") if db.dialect == "postgres" else (lambda n: "?")
    true = True if db.dialect == "postgres" else 1

    def ins(table: str, cols: list[str]) -> str:
        names = ", ".join(f'"{c}"' for c in cols)
        return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(p(i + 1) for i in range(len(cols)))})'

    async with db.transaction() as tx:
        await tx.execute(ins("cpu_architecture", ["slug"]), ["bench64"])
        arch = await tx.fetch_value('SELECT max(id) FROM "cpu_architecture"')
        await tx.execute(ins("device_type", ["slug", "name", "is_of__cpu_architecture"]),
                         ["bench-board", "Bench Board", arch])
        dt = await tx.fetch_value('SELECT max(id) FROM "device_type"')
        await tx.execute(ins("application_type", ["name", "slug"]), ["Bench", "bench"])
        at = await tx.fetch_value('SELECT max(id) FROM "application_type"')
        await tx.execute(ins("organization", ["name", "handle"]), [ORG, ORG])
        org = await tx.fetch_value('SELECT max(id) FROM "organization"')
        actor_sql = 'INSERT INTO "actor" DEFAULT VALUES RETURNING "id"'
        fleet_ids = []
        for n in range(1, FLEETS + 1):
            actor = await tx.fetch_value(actor_sql)
            await tx.execute(
                ins("application", ["actor", "organization", "app_name", "slug", "is_for__device_type",
                                    "application_type", "uuid", "should_track_latest_release"]),
                [actor, org, f"fleet-{n}", f"{ORG}/fleet-{n}", dt, at, f"{n:032x}", true])
            fleet_ids.append(await tx.fetch_value('SELECT max(id) FROM "application"'))
        states = ["online"] * 6 + ["offline"] * 2 + ["timeout", "unknown"]
        for i in range(1, DEVICES + 1):
            actor = await tx.fetch_value(actor_sql)
            await tx.execute(
                ins("device", ["actor", "uuid", "device_name", "is_of__device_type", "belongs_to__application",
                               "api_heartbeat_state", "is_connected_to_vpn", "is_online"]),
                [actor, uuid_of(i), f"device-{i}", dt, fleet_ids[i % FLEETS], states[i % 10],
                 true if i % 3 else (False if db.dialect == "postgres" else 0), true])
            dev = await tx.fetch_value('SELECT max(id) FROM "device"')
            for key in ("location", "role"):
                await tx.execute(ins("device_tag", ["device", "tag_key", "value"]), [dev, key, f"{key}-{i % 7}"])
            await tx.execute(ins("device_environment_variable", ["device", "name", "value"]),
                             [dev, "MODE", "fast" if i % 2 else "slow"])
    # A plain member of the organization: the same reads under permission rules.
    from fleetyard.auth.users import add_member, create_user

    engine = Engine(MODEL, db)
    member = await create_user(engine, MEMBER[0], MEMBER[1])
    async with db.transaction() as tx:
        await add_member(engine, member.id, org, "member", tx)


# --- the floor: the same statement, straight on the database -------------------------------


async def floor_qps(db, urls: list[str], seconds: float, callers: int = 16) -> float:
    engine = Engine(MODEL, db)
    perms = Permissions.all()
    statements = []
    for url in urls:
        compiled, binds = engine.compile_get(url, perms)
        statements.append((compiled.sql, engine.values(compiled.params, binds, {})))
    done = 0
    stop = time.perf_counter() + seconds

    async def caller(k: int) -> None:
        nonlocal done
        i = k
        while time.perf_counter() < stop:
            sql, params = statements[i % len(statements)]
            await db.fetch_value(sql, params)
            i += 1
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(caller(k) for k in range(callers)))
    return done / (time.perf_counter() - start)


# --- the server and wrk ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, port: int, env: dict) -> subprocess.Popen:
    fleetyard = shutil.which("fleetyard", path=str(Path(sys.executable).parent)) or "fleetyard"
    proc = subprocess.Popen(
        [fleetyard, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", database_url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise SystemExit(f"fleetyard serve exited: {proc.stderr.read().decode()[-2000:]}")
    proc.kill()
    raise SystemExit("fleetyard serve did not answer /ping within 60 s")


def token(port: int, username: str, password: str) -> str | None:
    """A superuser's token when the server has logins (None when it has none yet)."""
    body = f'{{"username": "{username}", "password": "{password}"}}'.encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/login_", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode().strip()
    except OSError:
        return None


LUA = """
local paths = {%s}
local headers = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
"""


def wrk(port: int, urls: list[str], bearer: str | None, seconds: int, connections: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run."""
    paths = ", ".join(f'"/v7{quote(u, safe="/?&=$(),:@%")}"'.replace("\\", "\\\\") for u in urls)
    headers = f'["Authorization"] = "Bearer {bearer}"' if bearer else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % (paths, headers))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"the server refused requests:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, latency_ms(out, "50%"), latency_ms(out, "99%")


def latency_ms(out: str, pct: str) -> float:
    """A percentile of the load generator's latency table, in ms."""
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# --- one database -----------------------------------------------------------------------------


async def empty_database(dialect: str, workdir: Path, name: str) -> str:
    """The URL of an empty database: a SQLite file in `workdir`, or the PostgreSQL
    database `name` (dropped first) beside FLEETYARD_BENCH_POSTGRES_URL's."""
    if dialect == "sqlite":
        return f"sqlite:///{workdir / (name + '.db')}"
    import asyncpg

    admin_url = os.environ.get("FLEETYARD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def prepare(dialect: str, workdir: Path) -> str:
    url = await empty_database(dialect, workdir, "fleetyard_bench")
    db = await connect(url)
    try:
        await migrate(db, MODEL)
        started = time.perf_counter()
        await seed(db)
        if dialect == "postgres":
            await db.execute("ANALYZE")
        print(f"  seeded {FLEETS} fleets, {DEVICES} devices in {time.perf_counter() - started:.1f} s")
    finally:
        await db.close()
    return url


async def floors(url: str, seconds: float) -> dict[str, float]:
    db = await connect(url)
    try:
        return {name: await floor_qps(db, urls, seconds) for name, urls in reads().items()}
    finally:
        await db.close()


def run(dialect: str, args: argparse.Namespace) -> None:
    print(f"== {dialect}")
    workdir = Path(tempfile.mkdtemp(prefix="fleetyard-bench-"))
    url = asyncio.run(prepare(dialect, workdir))
    port = free_port()
    env = {**os.environ, "FLEETYARD_ADMIN_USERNAME": ADMIN[0], "FLEETYARD_ADMIN_PASSWORD": ADMIN[1],
           "FLEETYARD_DATABASE_URL": url}
    proc = start_server(url, port, env)
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    try:
        # The superuser reads without permission filters, as the reference was measured;
        # the member reads through them, which is what users feel (decisions.md).
        for caller, (username, password) in (("superuser", ADMIN), ("member", MEMBER)):
            bearer = token(port, username, password)
            results[caller] = {}
            for name, urls in reads().items():
                wrk(port, urls, bearer, 2, args.connections)  # warm up: caches, prepared statements
                runs = sorted((wrk(port, urls, bearer, args.duration, args.connections)
                               for _ in range(args.runs)), key=lambda r: r[0])
                results[caller][name] = runs[len(runs) // 2]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    floor = asyncio.run(floors(url, min(args.duration, 5)))
    for caller, by_read in results.items():
        print(f"  as {caller}")
        print(f"  {'read':4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'floor q/s':>10} {'of floor':>8} {'vs ref':>7}")
        for name, (rps, p50, p99) in by_read.items():
            print(f"  ({name})  {rps:8.0f} {p50:7.2f} {p99:7.2f} {floor[name]:10.0f} {rps / floor[name]:8.2f}"
                  f" {rps / REFERENCE[name]:6.2f}x")
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", default="both", choices=("sqlite", "postgres", "both"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    for dialect in (("sqlite", "postgres") if args.database == "both" else (args.database,)):
        run(dialect, args)


if __name__ == "__main__":
    main()
