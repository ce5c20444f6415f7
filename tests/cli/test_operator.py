"""The operator's commands against a real `fleetyard serve`, on SQLite and on PostgreSQL:
`fleetyard login`, `fleets`, `devices`, `releases`, `pin` (with `--wait`) and `status`, as
a user types them, in tables and with `--json`; a user of another organization sees none
of the first one's fleets. Simulated devices speak the device API (tests/live.py)."""

from __future__ import annotations

import json
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live import (
    Device,
    Server,
    add_device,
    create_fleet,
    create_release,
    fleetyard,
    organization_id,
    serve,
    wait_for,
)

ALICE, ALICE_PASSWORD = "alice", "alice-cli-password-1"
BOB, BOB_PASSWORD = "bob", "bob-cli-password-1"


@dataclass
class World:
    server: Server
    alice: httpx.Client
    greenhouse: dict
    old: dict
    latest: dict
    devices: dict[str, Device]
    config: dict[str, Path]

    def run(self, user: str, *args: str, input: str | None = None):
        """`fleetyard ARGS` as `user` (each with a config file of their own)."""
        return fleetyard(*args, env={"FLEETYARD_CLI_CONFIG": str(self.config[user]), "COLUMNS": "200"},
                         input=input)

    def ok(self, user: str, *args: str) -> str:
        done = self.run(user, *args)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def json(self, user: str, *args: str):
        return json.loads(self.ok(user, *args, "--json"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp(f"cli-{request.param}")
    with serve(request.param, tmp) as server:
        server.add_user(ALICE, ALICE_PASSWORD)
        server.add_user(BOB, BOB_PASSWORD)
        alice = server.client(server.login(ALICE, ALICE_PASSWORD))
        bob = server.client(server.login(BOB, BOB_PASSWORD))
        org = organization_id(alice, ALICE)
        greenhouse = create_fleet(alice, org, "Greenhouse")
        create_fleet(alice, org, "Warehouse")
        create_fleet(bob, organization_id(bob, BOB), "Bobyard")
        old = create_release(alice, greenhouse["id"], "a" * 40, "1.0.0", 1)
        latest = create_release(alice, greenhouse["id"], "b" * 40, "1.1.0", 2)
        devices = {name: add_device(server, alice, greenhouse["id"], name) for name in ("sensor-1", "sensor-2")}
        config = {ALICE: tmp / "alice" / "cli.json", BOB: tmp / "bob" / "cli.json"}
        try:
            yield World(server, alice, greenhouse, old, latest, devices, config)
        finally:
            for device in devices.values():
                device._stop.set()
            alice.close()
            bob.close()


def test_login(world: World) -> None:
    assert "not logged in" in world.run(ALICE, "fleets").stderr
    refused = world.run(ALICE, "login", "--url", world.server.base, "-u", ALICE, "-p", "wrong-password")
    assert refused.returncode == 1 and "wrong username or password" in refused.stderr
    assert not world.config[ALICE].exists()

    # The password asked for at the prompt, hidden.
    done = world.run(ALICE, "login", "--url", world.server.base, "-u", ALICE, input=ALICE_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert f"as {ALICE}" in done.stdout
    stored = json.loads(world.config[ALICE].read_text())
    assert stored["url"] == world.server.base and stored["username"] == ALICE
    assert stat.S_IMODE(world.config[ALICE].stat().st_mode) == 0o600  # the token is the owner's only
    r = httpx.get(world.server.base + "/user/v1/whoami", headers={"Authorization": f"Bearer {stored['token']}"})
    assert r.json()["username"] == ALICE

    world.ok(BOB, "login", "--url", world.server.base, "--username", BOB, "--password", BOB_PASSWORD)


def test_fleets(world: World) -> None:
    rows = world.json(ALICE, "fleets")
    assert [f["slug"] for f in rows] == ["alice/greenhouse", "alice/warehouse"]
    greenhouse = rows[0]
    assert greenhouse["devices"] == 2 and greenhouse["counts"]["configuring"] == 2
    assert greenhouse["target"]["commit"] == "b" * 40 and greenhouse["tracks_latest"] is True
    table = world.ok(ALICE, "fleets")
    assert "alice/greenhouse" in table and "1.1.0 (bbbbbbb) (latest)" in table and "configuring 2" in table
    assert [f["slug"] for f in world.json(BOB, "fleets")] == ["bob/bobyard"]


def test_devices_follow_their_status(world: World) -> None:
    rows = world.json(ALICE, "devices", "alice/greenhouse")
    assert [(d["name"], d["status"]) for d in rows] == [("sensor-1", "configuring"), ("sensor-2", "configuring")]
    world.devices["sensor-1"].connect()
    rows = wait_for(lambda: [d for d in world.json(ALICE, "devices", "alice/greenhouse", "--status", "operational")],
                    what="sensor-1 operational")
    assert [d["name"] for d in rows] == ["sensor-1"]
    table = world.ok(ALICE, "devices", "alice/greenhouse", "--sort", "status", "--desc")
    assert table.index("sensor-1") < table.index("sensor-2") and "operational" in table
    only = world.json(ALICE, "devices", "alice/greenhouse", "--filter", "sensor-2")
    assert [d["name"] for d in only] == ["sensor-2"]
    assert all(d["target"]["commit"] == "b" * 40 for d in world.json(ALICE, "devices", "alice/greenhouse"))

    # Bob may not see Alice's fleet: the same answer as a fleet that does not exist.
    refused = world.run(BOB, "devices", "alice/greenhouse")
    assert refused.returncode == 1 and "no fleet 'alice/greenhouse'" in refused.stderr


def test_releases(world: World) -> None:
    rows = world.json(ALICE, "releases", "alice/greenhouse")
    assert [(r["version"], r["is_target"]) for r in rows] == [("1.1.0", True), ("1.0.0", False)]
    table = world.ok(ALICE, "releases", "alice/greenhouse")
    assert "aaaaaaa" in table and "target" in table
    assert world.run(BOB, "releases", "alice/greenhouse").returncode == 1


def test_pin_and_wait_for_the_devices(world: World) -> None:
    out = world.ok(ALICE, "pin", "alice/greenhouse", "1.0.0")
    assert "1.0.0 (aaaaaaa) (pinned)" in out
    fleet = world.alice.get(f"/v7/application({world.greenhouse['id']})"
                            "?$select=should_be_running__release,should_track_latest_release").json()["d"][0]
    assert fleet == {"should_be_running__release": {"__id": world.old["id"]}, "should_track_latest_release": False}
    assert all(d["target"]["commit"] == "a" * 40 for d in world.json(ALICE, "devices", "alice/greenhouse"))

    # The devices take the new release a moment later; --wait follows them with a progress bar.
    def update() -> None:
        time.sleep(1.5)
        for device in world.devices.values():
            device.report(apps={world.greenhouse["uuid"]: {"release_uuid": "a" * 40, "releases": {}}})

    threading.Thread(target=update, daemon=True).start()
    out = world.ok(ALICE, "pin", "alice/greenhouse", "aaaa", "--wait", "--timeout", "60")
    assert "devices on the target" in out and "2/2" in out

    out = world.ok(ALICE, "pin", "alice/greenhouse", "latest")
    assert "1.1.0 (bbbbbbb) (tracking the latest release)" in out
    for wrong, message in (("9.9.9", "no release '9.9.9'"), ("nope", "no release 'nope'")):
        done = world.run(ALICE, "pin", "alice/greenhouse", wrong)
        assert done.returncode == 1 and message in done.stderr
    refused = world.run(BOB, "pin", "alice/greenhouse", "1.0.0")
    assert refused.returncode == 1
    assert world.json(ALICE, "fleets")[0]["tracks_latest"] is True


def test_status(world: World) -> None:
    summary = world.json(ALICE, "status")
    assert summary["devices"] == 2
    assert summary["counts"]["operational"] == 1 and summary["counts"]["configuring"] == 1
    assert [f["slug"] for f in summary["fleets"]] == ["alice/greenhouse", "alice/warehouse"]
    table = world.ok(ALICE, "status")
    assert "2 device(s) in 2 fleet(s)" in table and "operational" in table and "━" in table
    assert world.json(BOB, "status")["devices"] == 0


def test_a_token_from_the_environment_and_a_bad_one(world: World) -> None:
    key = httpx.post(world.server.base + "/api-key/user/full", json={"name": "cli"},
                     headers=world.alice.headers)
    if key.status_code == 404:  # the key routes are the accounts' side; a stored JWT works the same
        pytest.skip("this server has no /api-key/user/full")
    done = fleetyard("fleets", "--json", env={"FLEETYARD_CLI_CONFIG": "/nonexistent/cli.json",
                                              "FLEETYARD_URL": world.server.base, "FLEETYARD_TOKEN": key.json()})
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2
    done = fleetyard("fleets", env={"FLEETYARD_CLI_CONFIG": "/nonexistent/cli.json",
                                    "FLEETYARD_URL": world.server.base, "FLEETYARD_TOKEN": "not-a-key"})
    assert done.returncode == 1 and "fleetyard login" in done.stderr
