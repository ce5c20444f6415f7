"""balena-cli (tools.CLI) against fleetyard: the CLI scenario of clients.md §8.3, one process
per command with the environment of §2.3, once per database; each step a test.

The steps are declared in `cli_scenario` below and run in order when the module's fixture
first asks for them; a step holds one command or a few that belong together, each asserted
on its exit status and its output (`--json` parsed where the command has it, tables read
where it has not).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.clients import tools
from tests.clients.conftest import Fleetyard, installed
from tests.clients.outcomes import Run, assert_step, step_names
from tests.clients.steps import Runner, check, eq

PI, AMD = "raspberrypi4-64", "generic-amd64"
FLEET = "cli-fleet"
C1, C2 = "e1" * 16, "e2" * 16
UUID = "cafe" * 8


@dataclass
class Balena:
    """`balena …` as a separate process, pointed at the server through the environment."""

    binary: Path
    env: dict[str, str]

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run([str(self.binary), *args], env=self.env, capture_output=True, text=True,
                                  check=False, timeout=120, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"balena {' '.join(args)} did not finish within 120 s") from None
        if ok and done.returncode != 0:
            raise AssertionError(f"balena {' '.join(args)} exited with {done.returncode}:\n"
                                 f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
        return done

    def json(self, *args: str):
        out = self(*args, "--json").stdout
        try:
            return json.loads(out)
        except ValueError:
            raise AssertionError(f"balena {' '.join(args)} --json printed no JSON:\n{out[:1500]}") from None


def cli_environment(server: Fleetyard, home: Path) -> dict[str, str]:
    """clients.md §2.3: the API URL, a home and data directory of the test's own, and no
    telemetry, no error reports, no version checks against the internet."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        **tools.node_env(),
        "HOME": str(home),
        "BALENARC_API_URL": server.url,
        "BALENARC_BALENA_URL": "127.0.0.1",  # only what login and whoami print
        "BALENARC_DATA_DIRECTORY": str(home / ".balena"),
        "BALENARC_NO_SENTRY": "1",
        "BALENARC_NO_ANALYTICS": "1",
        "BALENARC_UNSUPPORTED": "1",
        "NO_UPDATE_NOTIFIER": "1",
    }


def table(text: str, *columns: str) -> list[dict[str, str]]:
    """A CLI table as dicts of the named `columns` (a name may hold a space: "TAG KEY"): the
    header is the line naming them all; a cell runs from its name's start to the next
    header word after the name."""
    lines = [line for line in text.splitlines() if line.strip()]
    at = next((i for i, line in enumerate(lines) if all(c in line for c in columns)), None)
    if at is None:
        raise AssertionError(f"no table with the columns {columns} in:\n{text[:1500]}")
    header = lines[at]
    words = [m.start() for m in re.finditer(r"(?<!\S)\S", header)]
    spans = {}
    for c in columns:
        start = header.index(c)
        spans[c] = (start, next((w for w in words if w >= start + len(c)), None))
    return [{c: line[a:b].strip() for c, (a, b) in spans.items()} for line in lines[at + 1:]]


def cli_scenario(run: Runner, balena: Balena, server: Fleetyard) -> None:
    s: dict = {}
    slug = f"{server.username}/{FLEET}"
    http = httpx.Client(base_url=server.url, timeout=30)

    LOGIN = "login with credentials, whoami"

    @run.step(LOGIN)
    def _():
        balena("login", "--credentials", "--email", server.email, "--password", server.password)
        out = balena("whoami").stdout
        check(re.search(rf"USERNAME:\s+{server.username}\b", out), f"the username in:\n{out}")
        check(server.email in out, f"the e-mail in:\n{out}")
        token = http.post("/login_", json={"username": server.username, "password": server.password}).text
        http.headers["Authorization"] = f"Bearer {token}"

    @run.step("organization list", needs=[LOGIN])
    def _():
        rows = table(balena("organization", "list").stdout, "NAME", "HANDLE")
        check(server.username in [r.get("HANDLE") for r in rows], f"{server.username} in {rows!r}")

    @run.step("device-type list", needs=[LOGIN])
    def _():
        every = {dt["slug"]: dt for dt in balena.json("device-type", "list", "--all")}
        eq(every[PI]["arch"], "aarch64", "arch of raspberrypi4-64")
        eq(every[AMD]["arch"], "amd64", "arch of generic-amd64")
        eq(every[PI]["name"], "Raspberry Pi 4 (using 64bit OS)", "name")
        eq(every["raspberry-pi2"]["aliases"], ["raspberrypi2"], "aliases of raspberry-pi2")
        supported = [r["SLUG"] for r in table(balena("device-type", "list").stdout, "SLUG", "ALIASES", "ARCH")]
        check(PI in supported and AMD in supported, f"supported: {supported!r}")

    FLEET_MADE = "fleet create, list, show"

    @run.step(FLEET_MADE, needs=[LOGIN])
    def _():
        balena("fleet", "create", FLEET, "--type", PI, "--organization", server.username)
        rows = table(balena("fleet", "list").stdout, "ID", "NAME", "SLUG")
        check(slug in [r["SLUG"] for r in rows], f"{slug} in {rows!r}")
        fleet = balena.json("fleet", slug)
        eq((fleet["slug"], fleet["app_name"], fleet["device_type"]), (slug, FLEET, PI), "the fleet")
        s["fleet"] = fleet

    RELEASES = "release list, release"

    @run.step(RELEASES, needs=[FLEET_MADE])
    def _():
        for commit, semver in ((C1, "1.0.0"), (C2, "1.1.0")):  # no builder: made as the SDKs' tests do
            r = http.post("/v7/release", json={
                "belongs_to__application": s["fleet"]["id"], "commit": commit, "status": "success",
                "source": "cloud", "composition": {}, "semver": semver,
                "start_timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())})
            eq(r.status_code, 201, f"release {semver}: {r.text}")
            time.sleep(0.01)
        releases = balena.json("release", "list", slug)
        eq([r["commit"] for r in releases], [C2, C1], "newest first")
        eq([r["raw_version"] for r in releases], ["1.1.0", "1.0.0"], "versions")
        release = balena.json("release", C1)
        eq((release["commit"], release["status"], release["is_final"]), (C1, "success", True), "release")
        s["release_id"] = release["id"]

    @run.step("fleet pin, show the pin, track-latest", needs=[RELEASES])
    def _():
        balena("fleet", "pin", slug, C1)
        out = balena("fleet", "pin", slug).stdout
        check(C1 in out, f"the pinned commit in:\n{out}")
        eq(balena.json("fleet", slug)["commit"], C1, "target after the pin")
        balena("fleet", "track-latest", slug)
        eq(balena.json("fleet", slug)["commit"], C2, "target when tracking")

    @run.step("fleet rename", needs=[FLEET_MADE])
    def _():
        balena("fleet", "rename", slug, f"{FLEET}-2")
        eq(balena.json("fleet", f"{slug}-2")["app_name"], f"{FLEET}-2", "renamed")
        balena("fleet", "rename", f"{slug}-2", FLEET)
        eq(balena.json("fleet", slug)["slug"], slug, "renamed back")

    @run.step("release invalidate, validate, finalize", needs=[RELEASES])
    def _():
        def invalidated() -> bool:
            return http.get(f"/v7/release({s['release_id']})?$select=is_invalidated").json()["d"][0]["is_invalidated"]

        balena("release", "invalidate", C1)
        eq(invalidated(), True, "is_invalidated after invalidate")
        balena("release", "validate", C1)
        eq(invalidated(), False, "is_invalidated after validate")
        balena("release", "finalize", C1)  # final already: says so, changes nothing
        eq(balena.json("release", C1)["is_final"], True, "is_final")

    @run.step("organization create", needs=[LOGIN])
    def _():
        balena("organization", "create", "Other Org")
        rows = table(balena("organization", "list").stdout, "NAME", "HANDLE")
        check(("Other Org", "other_org") in [(r["NAME"], r["HANDLE"]) for r in rows], f"listed: {rows!r}")

    REGISTER = "device register"
    DEVICE = "device list, device"

    @run.step(REGISTER, needs=[FLEET_MADE])
    def _():
        out = balena("device", "register", slug, "--uuid", UUID, "--deviceType", PI).stdout
        check(UUID in out, f"the uuid in:\n{out}")

    @run.step(DEVICE, needs=[FLEET_MADE])
    def _():
        if REGISTER not in run.succeeded:
            # Registration is its own step (its failure shows there); the device commands
            # below still run, on a device a user may create through OData.
            dt = http.get(f"/v7/device_type(slug='{PI}')?$select=id").json()["d"][0]["id"]
            r = http.post("/v7/device", json={
                "belongs_to__application": s["fleet"]["id"], "is_of__device_type": dt, "uuid": UUID})
            eq(r.status_code, 201, f"device: {r.text}")
        devices = balena.json("device", "list")
        eq([(d["uuid"], d["fleet"], d["device_type"]) for d in devices], [(UUID, slug, PI)], "device list")
        device = balena.json("device", UUID)
        eq((device["uuid"], device["fleet"], device["device_type"]), (UUID, slug, PI), "device")
        eq(device["overall_status"], "configuring", "overall_status of a device never seen")
        eq(device["is_of__device_type"], [{"slug": PI}], "is_of__device_type as the CLI expanded it")
        out = balena("device", UUID).stdout
        check(UUID in out, f"the uuid in:\n{out}")

    @run.step("config generate: for the fleet, for a device", needs=[DEVICE])
    def _():
        home = Path(balena.env["HOME"])
        common = ("--version", "6.0.13", "--network", "ethernet", "--appUpdatePollInterval", "10")
        balena("config", "generate", "--fleet", slug, *common, "--output", str(home / "fleet.json"))
        config = json.loads((home / "fleet.json").read_text())
        eq((config["applicationId"], config["deviceType"], config["apiEndpoint"], config["appUpdatePollInterval"]),
           (s["fleet"]["id"], PI, server.url, 600_000), "the fleet's config.json")
        # its provisioning key registers a device, as a balenaOS image booting with it does
        booted = "beef" * 8
        r = httpx.post(server.url + "/device/register", headers={"Authorization": f"Bearer {config['apiKey']}"},
                       json={"application": config["applicationId"], "device_type": PI, "uuid": booted})
        eq(r.status_code, 201, f"register with the config's key: {r.text}")
        eq(http.delete(f"/v7/device(uuid='{booted}')").status_code, 200, "the booted device deleted")
        balena("config", "generate", "--device", UUID, *common, "--output", str(home / "device.json"))
        config = json.loads((home / "device.json").read_text())
        eq((config["uuid"], config["applicationId"]), (UUID, s["fleet"]["id"]), "the device's config.json")
        check("apiKey" not in config and config.get("deviceApiKey"), f"a device key only, in {sorted(config)}")
        r = httpx.get(server.url + f"/device/v3/{UUID}/state",
                      headers={"Authorization": f"Bearer {config['deviceApiKey']}"})
        eq(r.status_code, 200, f"the device's state with its key: {r.text}")

    @run.step("device rename, note", needs=[DEVICE])
    def _():
        balena("device", "rename", UUID, "cli-dev")
        balena("device", "note", "on the shelf", "--device", UUID)
        device = balena.json("device", UUID)
        eq((device["device_name"], device["note"]), ("cli-dev", "on the shelf"), "name and note")

    @run.step("device move", needs=[DEVICE])
    def _():
        other = f"{slug}-b"
        balena("fleet", "create", f"{FLEET}-b", "--type", PI, "--organization", server.username)
        try:
            balena("device", "move", UUID, "--fleet", other)
            eq(balena.json("device", UUID)["fleet"], other, "moved")
        finally:
            balena("device", "move", UUID, "--fleet", slug)
            balena("fleet", "rm", other, "--yes")
        eq(balena.json("device", UUID)["fleet"], slug, "moved back")

    @run.step("device pin, track-fleet", needs=[DEVICE, RELEASES])
    def _():
        balena("device", "pin", UUID, C1)
        out = balena("device", "pin", UUID).stdout
        check(C1 in out, f"the pinned commit in:\n{out}")
        eq(balena.json("device", UUID)["should_be_running__release"], {"__id": s["release_id"]}, "target")
        balena("device", "track-fleet", UUID)
        r = http.get(f"/v7/device(uuid='{UUID}')?$select=is_pinned_on__release")
        eq(r.json()["d"][0]["is_pinned_on__release"], None, "pin after track-fleet")

    def tag_round(*where: str) -> None:
        balena("tag", "set", "colour", "red", *where)
        balena("tag", "set", "colour", "blue", *where)  # the same key again
        balena("tag", "set", "size", "L", *where)
        rows = table(balena("tag", "list", *where).stdout, "TAG KEY", "VALUE")
        eq([(r["TAG KEY"], r["VALUE"]) for r in rows], [("colour", "blue"), ("size", "L")], "tags")
        balena("tag", "rm", "colour", *where)
        balena("tag", "rm", "size", *where)
        done = balena("tag", "list", *where, ok=False)
        check("colour" not in done.stdout and "size" not in done.stdout, f"no tags left:\n{done.stdout}")

    @run.step("tag set, list, rm: fleet", needs=[FLEET_MADE])
    def _():
        tag_round("--fleet", slug)

    @run.step("tag set, list, rm: device", needs=[DEVICE])
    def _():
        tag_round("--device", UUID)

    @run.step("tag set, list, rm: release", needs=[RELEASES])
    def _():
        tag_round("--release", C1)

    @run.step("env set, list, rm: fleet", needs=[FLEET_MADE])
    def _():
        balena("env", "set", "MY_VAR", "1", "--fleet", slug)
        balena("env", "set", "MY_VAR", "2", "--fleet", slug)  # the same name again
        env = [v for v in balena.json("env", "list", "--fleet", slug) if v["name"] == "MY_VAR"]
        eq([v["value"] for v in env], ["2"], "MY_VAR")
        balena("env", "set", "BALENA_HOST_CONFIG_gpu_mem", "64", "--fleet", slug)
        config = {v["name"]: v for v in balena.json("env", "list", "--fleet", slug, "--config")}
        eq(config["BALENA_HOST_CONFIG_gpu_mem"]["value"], "64", "the config variable")
        check("MY_VAR" not in config, "env and config variables apart")
        balena("env", "rename", str(env[0]["id"]), "3")
        eq([v["value"] for v in balena.json("env", "list", "--fleet", slug) if v["name"] == "MY_VAR"], ["3"], "renamed")
        balena("env", "rm", str(env[0]["id"]), "--yes")
        balena("env", "rm", str(config["BALENA_HOST_CONFIG_gpu_mem"]["id"]), "--config", "--yes")
        eq(balena.json("env", "list", "--fleet", slug), [], "fleet variables after removal")

    @run.step("env set, list, rm: device", needs=[DEVICE])
    def _():
        balena("env", "set", "D_VAR", "1", "--device", UUID)
        env = [v for v in balena.json("env", "list", "--device", UUID) if v["name"] == "D_VAR"]
        eq([v["value"] for v in env], ["1"], "D_VAR")
        balena("env", "rm", str(env[0]["id"]), "--device", "--yes")
        check(not [v for v in balena.json("env", "list", "--device", UUID) if v["name"] == "D_VAR"], "removed")

    API_KEY = "api-key generate"

    @run.step(API_KEY, needs=[LOGIN])
    def _():
        out = balena("api-key", "generate", "cli-key", "never").stdout
        keys = re.findall(r"^\s*(\S{20,64})\s*$", out, re.MULTILINE)
        check(keys, f"a key alone on a line in:\n{out}")
        s["key"] = keys[0]
        r = httpx.get(server.url + "/actor/v1/whoami", headers={"Authorization": f"Bearer {s['key']}"})
        eq(r.status_code, 200, f"whoami with the new key: {r.text}")

    @run.step("api-key list, revoke", needs=[API_KEY])
    def _():
        rows = table(balena("api-key", "list").stdout, "ID", "NAME", "CREATED AT")
        (row,) = [r for r in rows if r["NAME"] == "cli-key"]
        balena("api-key", "revoke", row["ID"])
        check("cli-key" not in balena("api-key", "list").stdout, "revoked key listed")
        r = httpx.get(server.url + "/actor/v1/whoami", headers={"Authorization": f"Bearer {s['key']}"})
        eq(r.status_code, 401, "whoami with the revoked key")

    @run.step("ssh-key list", needs=[LOGIN])
    def _():
        balena("ssh-key", "list")

    @run.step("device rm, fleet rm", needs=[FLEET_MADE])
    def _():
        if DEVICE in run.succeeded:
            balena("device", "rm", UUID, "--yes")
            eq(balena.json("device", "list"), [], "devices after rm")
        balena("fleet", "rm", slug, "--yes")
        check(FLEET not in balena("fleet", "list", ok=False).stdout, "the fleet is gone")

    @run.step("logout, whoami needs a login", needs=[LOGIN])
    def _():
        balena("logout")
        done = balena("whoami", ok=False)
        check(done.returncode != 0, "whoami after logout must fail")
        check("Login required" in done.stdout + done.stderr, f"'Login required' in:\n{done.stderr}")


@pytest.fixture(scope="module")
def cli() -> Path:
    installed(tools.node, f"Node.js {tools.NODE}")
    return installed(tools.cli, f"balena-cli {tools.CLI}")


@pytest.fixture(scope="module")
def scenario(cli: Path, fleetyard: Fleetyard, tmp_path_factory: pytest.TempPathFactory) -> Run:
    result = Run()
    balena = Balena(cli, cli_environment(fleetyard, tmp_path_factory.mktemp("cli-home")))
    cli_scenario(Runner(result.record), balena, fleetyard)
    return result


@pytest.mark.parametrize("step", step_names(Path(__file__)))
def test_step(scenario: Run, step: str) -> None:
    assert_step(scenario, step)
