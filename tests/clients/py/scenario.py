"""The scenario of spec/clients.md §8.2 through balena-sdk for Python 17.x.

Run by tests/clients/test_python_sdk.py with the python of the SDK's own venv:
`python scenario.py` with FLEETYARD_URL, FLEETYARD_USERNAME, FLEETYARD_EMAIL and
FLEETYARD_PASSWORD set; prints one JSON outcome per step (tests/clients/steps.py). Every
step asserts on what the server answered. The SDK is pointed at the server in memory
(clients.md §2.1 option B): nothing is read from or written to ~/.balena.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import balena
import requests
from balena import Balena, exceptions
from balena.auth import Auth
from balena.logs import Logs
from balena.models import Models
from balena.pine import PineClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from steps import Runner, check, eq, raises

URL = os.environ["FLEETYARD_URL"].rstrip("/") + "/"
USERNAME, EMAIL = os.environ["FLEETYARD_USERNAME"], os.environ["FLEETYARD_EMAIL"]
PASSWORD = os.environ["FLEETYARD_PASSWORD"]
PI, AMD = "raspberrypi4-64", "generic-amd64"
C1, C2 = "c1" * 16, "c2" * 16  # release commits


def sdk() -> Balena:
    """A Python SDK instance speaking to the server (clients.md §2.1 option B)."""
    b = Balena({"data_directory": False, "balena_host": "127.0.0.1"})
    b.settings.set("api_endpoint", URL)
    b.pine = PineClient(b.settings, balena.__version__)
    b.auth, b.models, b.logs = Auth(b.pine, b.settings), Models(b.pine, b.settings), Logs(b.pine, b.settings)
    return b


# Every answer of 400 or more the SDK received during a step, appended to the step's error:
# the SDK's REST helper returns error bodies as values, and it turns some 404s into
# "not found" errors that name no route.
failed: list[str] = []
_send = requests.Session.send


def _recording_send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    if response.status_code >= 400:
        path = request.path_url.split("?")[0]
        failed.append(f"{request.method} {path} -> {response.status_code} {response.text[:160]}")
    return response


requests.Session.send = _recording_send


def emit(outcome: dict) -> None:
    if not outcome["ok"] and failed and "error" in outcome:
        outcome["error"] += "\nfailed requests: " + " | ".join(failed[-4:])
    failed.clear()
    print(json.dumps(outcome), flush=True)


run = Runner(emit)
b = sdk()
models = b.models
s = SimpleNamespace()  # what the steps hand on to later steps


LOGIN = "auth: login with the username, whoami"


# --- 1. authentication -------------------------------------------------------------------

@run.step("auth: not logged in before login")
def _():
    eq(b.auth.is_logged_in(), False, "is_logged_in")
    eq(b.auth.get_token(), None, "token")


@run.step("auth: a wrong password is refused")
def _():
    raises(exceptions.LoginFailed, lambda: b.auth.login(username=USERNAME, password=PASSWORD + "x"))


@run.step(LOGIN)
def _():
    b.auth.login(username=USERNAME, password=PASSWORD)
    token = b.auth.get_token()
    check(token and token.count(".") == 2 and not token.startswith('"'), f"a bare JWT, got {token!r}")
    me = b.auth.whoami()
    eq(me["actorType"], "user", "actorType")
    eq(me["username"], USERNAME, "username")
    eq(me["email"], EMAIL, "email")
    info = b.auth.get_user_info()
    eq(info["id"], me["actorTypeId"], "user id")
    eq(b.auth.get_actor_id(), me["id"], "actor id")
    eq(b.auth.is_logged_in(), True, "is_logged_in")
    s.user_id, s.actor_id = info["id"], me["id"]


@run.step("auth: login with the e-mail address")
def _():
    other = sdk()
    other.auth.login(username=EMAIL, password=PASSWORD)
    eq(other.auth.whoami()["username"], USERNAME, "username")


@run.step("auth: a stale token's refresh (GET /whoami) keeps the session", needs=[LOGIN])
def _():
    # Python refreshes a JWT older than token_refresh_interval through GET /whoami and keeps
    # any 2xx body as its new token (clients.md §8.2): the answer must be a fresh token or a
    # non-2xx status. An interval of 0 makes every request refresh first.
    other = sdk()
    other.auth.login(username=USERNAME, password=PASSWORD)
    other.settings.set("token_refresh_interval", "0")
    eq(other.auth.whoami()["username"], USERNAME, "whoami after the refresh")
    token = other.auth.get_token()
    check(token.count(".") == 2 and "{" not in token, f"the token is still a JWT: {token[:60]!r}")


@run.step("auth: the settings-file setup (balena.cfg) reaches the server too")
def _():
    # The README's other way: a data directory whose balena.cfg names fleetyard. The SDK
    # rewrites a file that lacks any key, so every key is there.
    with tempfile.TemporaryDirectory() as data:
        base = URL
        settings = {
            "balena_host": "127.0.0.1", "api_endpoint": base, "pine_endpoint": base + "v7/",
            "builder_url": base + "builder/", "api_version": "v7", "device_actions_endpoint_version": "v1",
            "data_directory": data, "cache_directory": f"{data}/cache", "image_cache_time": "604800000",
            "token_refresh_interval": "3600000", "timeout": "30000", "request_limit_interval": "60",
            "retry_rate_limited_request": "false"}
        Path(data, "balena.cfg").write_text(
            "[Settings]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        from_file = Balena({"data_directory": data})
        eq(from_file.settings.get("api_endpoint"), base, "api_endpoint kept from the file")
        from_file.auth.login(username=USERNAME, password=PASSWORD)
        eq(from_file.auth.whoami()["username"], USERNAME, "whoami")
        check("token" in Path(data, "balena.cfg").read_text(), "the token stored in the file")


# --- 2. config ---------------------------------------------------------------------------

@run.step("config: get_all", needs=[LOGIN])
def _():
    config = models.config.get_all()
    check(isinstance(config, dict) and config.get("deviceUrlsBase"), f"deviceUrlsBase in {config!r}")


# --- 3. device types ---------------------------------------------------------------------

@run.step("device types: get_all, get by slug, alias, id and name", needs=[LOGIN])
def _():
    dts = models.device_type.get_all()
    slugs = {dt["slug"] for dt in dts}
    check({PI, AMD} <= slugs, f"both slugs in {sorted(slugs)}")
    pi = models.device_type.get(PI, {"$expand": {"is_of__cpu_architecture": {"$select": "slug"}}})
    eq(pi["slug"], PI, "slug")
    eq(pi["name"], "Raspberry Pi 4 (using 64bit OS)", "name")
    eq(pi["is_of__cpu_architecture"][0]["slug"], "aarch64", "architecture")
    eq(models.device_type.get("raspberrypi2")["slug"], "raspberry-pi2", "the alias's type")
    eq(models.device_type.get(pi["id"])["slug"], PI, "by id")
    eq(models.device_type.get_by_slug_or_name("Generic AMD64 (x86-64)")["slug"], AMD, "by name")
    eq(models.device_type.get_name(PI), "Raspberry Pi 4 (using 64bit OS)", "get_name")
    eq(models.device_type.get_slug_by_name("Generic AMD64 (x86-64)"), AMD, "get_slug_by_name")
    check(isinstance(pi["contract"], dict) and pi["contract"]["slug"] == PI, "the contract as JSON")
    s.pi_id = pi["id"]


@run.step("device types: unknown slug, supported types", needs=[LOGIN])
def _():
    raises(exceptions.InvalidDeviceType, lambda: models.device_type.get("nope"), "get('nope')")
    supported = {dt["slug"] for dt in models.device_type.get_all_supported()}
    check({PI, AMD} <= supported, f"both supported: {sorted(supported)}")


# --- 4. organizations --------------------------------------------------------------------

ORGS = "organizations: get_all and get"


@run.step(ORGS, needs=[LOGIN])
def _():
    orgs = models.organization.get_all()
    check(USERNAME in [o["handle"] for o in orgs], f"{USERNAME} in {orgs!r}")
    org = models.organization.get(USERNAME)
    eq(org["handle"], USERNAME, "handle")
    eq(models.organization.get(org["id"])["handle"], USERNAME, "by id")
    raises(exceptions.OrganizationNotFound, lambda: models.organization.get("nope"), "get('nope')")
    s.org_id = org["id"]


@run.step("organizations: create and remove", needs=[ORGS])
def _():
    acme = models.organization.create("Acme Py")
    eq(acme["handle"], "acme_py", "the generated handle")
    eq(acme["name"], "Acme Py", "name")
    check(acme["handle"] in [o["handle"] for o in models.organization.get_all()], "listed: the creator is a member")
    models.organization.remove(acme["id"])
    raises(exceptions.OrganizationNotFound, lambda: models.organization.get(acme["id"]), "the removed one")


# --- 5. fleets ---------------------------------------------------------------------------

FLEETS = "fleets: create three"


@run.step(FLEETS, needs=[ORGS])
def _():
    a = models.application.create("fleet-a", PI, USERNAME)
    eq(a["slug"], f"{USERNAME}/fleet-a", "slug")
    eq(a["app_name"], "fleet-a", "app_name")
    eq(a["is_for__device_type"], {"__id": s.pi_id}, "is_for__device_type")
    eq(a["organization"], {"__id": s.org_id}, "organization")
    eq(a["should_track_latest_release"], True, "should_track_latest_release")
    check(len(a["uuid"]) == 32 and isinstance(a["actor"], dict), f"uuid and actor: {a!r}")
    b_ = models.application.create("fleet-b", AMD, s.org_id, "fleet")
    eq(b_["slug"], f"{USERNAME}/fleet-b", "slug of fleet-b")
    c = models.application.create("fleet-c", PI, USERNAME)
    s.a, s.b, s.c = a, b_, c


@run.step("fleets: get by slug, id, uuid and name", needs=[FLEETS])
def _():
    slug = s.a["slug"]
    eq(models.application.get(slug)["id"], s.a["id"], "by slug")
    eq(models.application.get(s.a["id"])["slug"], slug, "by id")
    eq(models.application.get(s.a["uuid"])["id"], s.a["id"], "by uuid")
    eq(models.application.get_by_name("fleet-a")["id"], s.a["id"], "by name")
    eq(models.application.get_id(slug), s.a["id"], "get_id")
    eq(models.application.has(slug), True, "has")
    eq(models.application.has(f"{USERNAME}/nope"), False, "has (missing)")
    eq(models.application.has_any(), True, "has_any")
    raises(exceptions.ApplicationNotFound, lambda: models.application.get(f"{USERNAME}/nope"), "get missing")


@run.step("fleets: get_all and by organization", needs=[FLEETS])
def _():
    mine = sorted(a["app_name"] for a in models.application.get_all())
    eq(mine, ["fleet-a", "fleet-b", "fleet-c"], "get_all (directly accessible)")
    eq(len(models.application.get_all_directly_accessible()), 3, "get_all_directly_accessible")
    by_org = sorted(a["app_name"] for a in models.application.get_all_by_organization(USERNAME))
    eq(by_org, ["fleet-a", "fleet-b", "fleet-c"], "get_all_by_organization")


@run.step("fleets: rename, unknown device type, duplicate name", needs=[FLEETS])
def _():
    models.application.rename(s.c["slug"], "fleet-c2")
    c2 = models.application.get(s.c["id"])
    eq((c2["app_name"], c2["slug"]), ("fleet-c2", f"{USERNAME}/fleet-c2"), "renamed")
    s.c = c2
    raises(exceptions.InvalidDeviceType, lambda: models.application.create("fleet-x", "nope", USERNAME))
    err = raises(exceptions.RequestError, lambda: models.application.create("fleet-a", PI, USERNAME))
    eq(err.status_code, 409, "duplicate name status")


# --- 6. releases -------------------------------------------------------------------------

RELEASES = "releases: create two, get by commit, id and version"


@run.step(RELEASES, needs=[FLEETS])
def _():
    made = []
    for commit, semver in ((C1, "1.0.0"), (C2, "1.1.0")):
        r = b.pine.post({"resource": "release", "body": {
            "belongs_to__application": s.a["id"], "is_created_by__user": s.user_id, "commit": commit,
            "status": "success", "source": "cloud", "composition": {},
            "start_timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "semver": semver}})
        eq(r["commit"], commit, "commit")
        eq(r["belongs_to__application"], {"__id": s.a["id"]}, "belongs_to__application")
        made.append(r)
        time.sleep(0.01)  # two creations in one millisecond would have no order by created_at
    s.r1, s.r2 = made
    eq(models.release.get(C1)["id"], s.r1["id"], "by commit")
    eq(models.release.get(s.r2["id"])["commit"], C2, "by id")
    got = models.release.get({"application": s.a["id"], "raw_version": "1.1.0"})
    eq(got["id"], s.r2["id"], "by raw_version")
    raises(exceptions.ReleaseNotFound, lambda: models.release.get("0" * 32), "unknown commit")


@run.step("releases: by fleet, latest, finalize, note, known issues, validity", needs=[RELEASES])
def _():
    ids = [r["id"] for r in models.release.get_all_by_application(s.a["slug"])]
    eq(ids, [s.r2["id"], s.r1["id"]], "newest first")
    eq(models.release.get_latest_by_application(s.a["slug"])["id"], s.r2["id"], "latest")
    models.release.finalize(s.r1["id"])
    models.release.set_note(s.r1["id"], "first release")
    models.release.set_known_issue_list(s.r1["id"], "none known")
    models.release.set_is_invalidated(s.r1["id"], False)
    r1 = models.release.get(s.r1["id"])
    eq((r1["is_final"], r1["note"], r1["known_issue_list"], r1["is_invalidated"]),
       (True, "first release", "none known", False), "release fields")
    eq(r1["status"], "success", "status")


# --- 7. fleet pinning --------------------------------------------------------------------

@run.step("fleets: pin to a release and track the latest again", needs=[RELEASES])
def _():
    slug = s.a["slug"]
    eq(models.application.is_tracking_latest_release(slug), True, "tracking at first")
    eq(models.application.get_target_release_hash(slug), C2, "target: the latest")
    models.application.pin_to_release(slug, C1)
    eq(models.application.get_target_release_hash(slug), C1, "target after the pin")
    eq(models.application.will_track_new_releases(slug), False, "will_track_new_releases")
    eq(models.application.is_tracking_latest_release(slug), False, "tracking after the pin")
    models.application.track_latest_release(slug)
    eq(models.application.get_target_release_hash(slug), C2, "target when tracking again")
    eq(models.application.is_tracking_latest_release(slug), True, "tracking again")


# --- 8. devices --------------------------------------------------------------------------

REGISTER = "devices: register two"
DEVICES = "devices: both readable"


@run.step(REGISTER, needs=[FLEETS])
def _():
    s.uuid1, s.uuid2 = models.device.generate_uuid(), models.device.generate_uuid()
    eq(len(s.uuid1), 62, "generated uuid length")
    d1 = models.device.register(s.a["slug"], s.uuid1)
    check(isinstance(d1, dict), f"registration answer: {d1!r}")
    eq(d1["uuid"], s.uuid1, "uuid")
    check(isinstance(d1["id"], int) and d1["api_key"], f"id and api_key: {d1!r}")
    d2 = models.device.register(s.a["slug"], s.uuid2, PI)
    eq(d2["uuid"], s.uuid2, "uuid of the second")
    amd_device = models.device.generate_uuid()
    raises(exceptions.InvalidDeviceType, lambda: models.device.register(s.a["slug"], amd_device, AMD),
           "an amd64 device in an aarch64 fleet")


@run.step(DEVICES, needs=[FLEETS])
def _():
    if REGISTER not in run.succeeded:
        # Registration is its own step (and its failure shows there): the device steps that
        # follow still run, on devices a user may create through OData.
        s.uuid1, s.uuid2 = models.device.generate_uuid(), models.device.generate_uuid()
        for uuid in (s.uuid1, s.uuid2):
            if not models.device.has(uuid):
                b.pine.post({"resource": "device", "body": {
                    "belongs_to__application": s.a["id"], "is_of__device_type": s.pi_id, "uuid": uuid}})
    devices = models.device.get_all_by_application(s.a["slug"])
    eq(sorted(d["uuid"] for d in devices), sorted([s.uuid1, s.uuid2]), "the fleet's devices")
    d = models.device.get(s.uuid1)
    eq(d["belongs_to__application"], {"__id": s.a["id"]}, "belongs_to__application")
    eq(d["is_of__device_type"], {"__id": s.pi_id}, "is_of__device_type")
    check(isinstance(d["actor"], dict) and "__id" in d["actor"], f"actor: {d['actor']!r}")
    s.device_id = d["id"]
    eq(models.device.get(d["id"])["uuid"], s.uuid1, "by id")
    eq(models.device.get_name(s.uuid1), d["device_name"], "get_name")
    check(d["device_name"], "a generated name")
    eq(models.device.has(s.uuid1), True, "has")
    eq(models.device.has("0" * 32), False, "has (missing)")
    raises(exceptions.DeviceNotFound, lambda: models.device.get("0" * 32), "get missing")


@run.step("devices: status, online, rename, note", needs=[DEVICES])
def _():
    # A device that never reported in is "configuring" (model.md §4.6 row 3: no VPN, never
    # connected, heartbeat unknown).
    eq(models.device.get_status(s.uuid1), "configuring", "overall status")
    eq(models.device.is_online(s.uuid1), False, "is_online")
    models.device.rename(s.uuid1, "py-dev-1")
    eq(models.device.get_name(s.uuid1), "py-dev-1", "renamed")
    eq([d["uuid"] for d in models.device.get_by_name("py-dev-1")], [s.uuid1], "get_by_name")
    eq(models.device.get_application_name(s.uuid1), "fleet-a", "get_application_name")
    models.device.set_note(s.uuid1, "on the bench")
    eq(models.device.get(s.uuid1)["note"], "on the bench", "note")


@run.step("devices: move between fleets", needs=[DEVICES])
def _():
    models.device.move(s.uuid1, s.c["slug"])
    eq(models.device.get(s.uuid1)["belongs_to__application"], {"__id": s.c["id"]}, "moved")
    # The Python SDK checks the architectures itself and names the fleet (JS: InvalidDeviceType).
    raises(exceptions.IncompatibleApplication, lambda: models.device.move(s.uuid1, s.b["slug"]), "to amd64")
    models.device.move(s.uuid1, s.a["slug"])
    eq(models.device.get(s.uuid1)["belongs_to__application"], {"__id": s.a["id"]}, "moved back")


@run.step("devices: pin to a release and track the fleet", needs=[DEVICES, RELEASES])
def _():
    def target() -> str:
        expand = {"should_be_running__release": {"$select": "commit"}}
        d = models.device.get(s.uuid1, {"$select": "id", "$expand": expand})
        return d["should_be_running__release"][0]["commit"]

    eq(models.device.is_tracking_application_release(s.uuid1), True, "tracking at first")
    eq(target(), C2, "target: the fleet's")
    models.device.pin_to_release(s.uuid1, C1)
    eq(models.device.is_tracking_application_release(s.uuid1), False, "tracking after the pin")
    eq(target(), C1, "target after the pin")
    models.device.track_application_release(s.uuid1)
    eq(models.device.is_tracking_application_release(s.uuid1), True, "tracking again")
    eq(target(), C2, "target when tracking again")


@run.step("devices: a device key logs in as the device", needs=[DEVICES])
def _():
    key = models.device.generate_device_key(s.uuid1, "py-key", "the scenario's")
    check(isinstance(key, str) and 20 <= len(key) <= 64 and " " not in key, f"a key, got {key!r}")
    device = sdk()
    device.auth.login_with_token(key)
    me = device.auth.whoami()
    eq((me["actorType"], me["uuid"], me["actorTypeId"]), ("device", s.uuid1, s.device_id), "whoami as the device")
    keys = models.api_key.get_device_api_keys_by_device(s.uuid1)
    check("py-key" in [k["name"] for k in keys], f"py-key in {keys!r}")


@run.step("devices and fleets: service details, metrics, release image details", needs=[DEVICES, RELEASES])
def _():
    d = models.device.get_with_service_details(s.uuid1)
    eq((d["uuid"], d["current_services"]), (s.uuid1, {}), "no service installed yet")
    metrics = models.device.get_metrics(s.uuid1)
    check("memory_usage" in metrics and "cpu_temp" in metrics, f"metrics: {metrics!r}")
    fleet = models.application.get_with_device_service_details(s.a["slug"])
    eq(sorted(x["uuid"] for x in fleet["owns__device"]), sorted([s.uuid1, s.uuid2]), "the fleet's devices")
    release = models.release.get_with_image_details(s.r1["id"])
    eq((release["images"], release["user"]["username"]), ([], USERNAME), "images and creator")


# --- 9. tags -----------------------------------------------------------------------------

def tag_round(owner, parent, list_all) -> None:
    owner.set(parent, "colour", "red")
    owner.set(parent, "size", "L")
    eq([(t["tag_key"], t["value"]) for t in list_all()], [("colour", "red"), ("size", "L")], "tags")
    owner.set(parent, "colour", "blue")  # the same key again: POST 409 "unique", then PATCH
    eq([(t["tag_key"], t["value"]) for t in list_all()], [("colour", "blue"), ("size", "L")], "set again")
    if hasattr(owner, "get"):  # device and release tags have it, fleet tags not
        eq(owner.get(parent, "colour"), "blue", "get after setting it again")
    owner.remove(parent, "colour")
    owner.remove(parent, "size")
    eq(list_all(), [], "tags after removal")


@run.step("tags: fleet", needs=[FLEETS])
def _():
    tags = models.application.tags
    tag_round(tags, s.a["slug"], lambda: tags.get_all_by_application(s.a["slug"]))


@run.step("tags: device", needs=[DEVICES])
def _():
    tags = models.device.tags
    tag_round(tags, s.uuid1, lambda: tags.get_all_by_device(s.uuid1))
    tags.set(s.uuid2, "where", "lab")
    eq([t["tag_key"] for t in tags.get_all_by_application(s.a["slug"])], ["where"], "the fleet's device tags")
    tags.remove(s.uuid2, "where")


@run.step("tags: release", needs=[RELEASES])
def _():
    tags = models.release.tags
    tag_round(tags, s.r1["id"], lambda: tags.get_all_by_release(s.r1["id"]))


# --- 10. variables -----------------------------------------------------------------------

def var_round(owner, parent, name: str, list_all) -> None:
    owner.set(parent, name, "1")
    eq(owner.get(parent, name), "1", f"{name}")
    eq([(v["name"], v["value"]) for v in list_all()], [(name, "1")], "all")
    owner.set(parent, name, "2")  # the same name again
    eq(owner.get(parent, name), "2", f"{name} set again")
    owner.remove(parent, name)
    eq(owner.get(parent, name), None, f"{name} after removal")
    eq(list_all(), [], "all after removal")


@run.step("variables: fleet environment, config and build", needs=[FLEETS])
def _():
    app, slug = models.application, s.a["slug"]
    var_round(app.env_var, slug, "MY_VAR", lambda: app.env_var.get_all_by_application(slug))
    var_round(app.config_var, slug, "BALENA_HOST_CONFIG_gpu_mem", lambda: app.config_var.get_all_by_application(slug))
    var_round(app.build_var, slug, "BUILD_VAR", lambda: app.build_var.get_all_by_application(slug))
    err = raises(exceptions.RequestError, lambda: app.env_var.set(slug, "BALENA_X", "1"), "a reserved name")
    eq(err.status_code, 400, "status of a reserved name")


@run.step("variables: device environment and config", needs=[DEVICES])
def _():
    dev = models.device
    var_round(dev.env_var, s.uuid1, "DEV_VAR", lambda: dev.env_var.get_all_by_device(s.uuid1))
    var_round(dev.config_var, s.uuid1, "BALENA_HOST_CONFIG_gpu_mem", lambda: dev.config_var.get_all_by_device(s.uuid1))
    dev.env_var.set(s.uuid2, "OTHER", "x")
    eq([v["name"] for v in dev.env_var.get_all_by_application(s.a["slug"])], ["OTHER"], "the fleet's device vars")
    dev.env_var.remove(s.uuid2, "OTHER")


@run.step("variables: device service", needs=[DEVICES, RELEASES])
def _():
    service = b.pine.post({"resource": "service", "body": {"application": s.a["id"], "service_name": "main"}})
    b.pine.post({"resource": "service_install", "body": {"device": s.device_id, "installs__service": service["id"]}})
    var = models.device.service_var
    var.set(s.uuid1, "main", "S_VAR", "1")
    eq(var.get(s.uuid1, "main", "S_VAR"), "1", "S_VAR")
    var.set(s.uuid1, "main", "S_VAR", "2")
    eq(var.get(s.uuid1, "main", "S_VAR"), "2", "S_VAR set again")
    eq([v["name"] for v in var.get_all_by_device(s.uuid1)], ["S_VAR"], "get_all_by_device")
    var.remove(s.uuid1, "main", "S_VAR")
    eq(var.get(s.uuid1, "main", "S_VAR"), None, "S_VAR after removal")


# --- 11. API keys and provisioning keys --------------------------------------------------

API_KEY = "api keys: create one and log in with it"


@run.step(API_KEY, needs=[LOGIN])
def _():
    s.key = models.api_key.create("k1", "the scenario's key")
    check(isinstance(s.key, str) and 20 <= len(s.key) <= 64 and " " not in s.key, f"a key, got {s.key!r}")
    other = sdk()
    other.auth.login_with_token(s.key)
    me = other.auth.whoami()
    eq((me["actorType"], me["username"]), ("user", USERNAME), "whoami with the key")
    eq(other.auth.is_logged_in(), True, "is_logged_in with the key")


@run.step("api keys: list and rename", needs=[API_KEY])
def _():
    (k1,) = [k for k in models.api_key.get_all_named_user_api_keys() if k["name"] == "k1"]
    eq(k1["description"], "the scenario's key", "description")
    eq(k1["is_of__actor"], {"__id": s.actor_id}, "is_of__actor")
    check("key" not in k1, "the secret is never read back")
    models.api_key.update(k1["id"], {"name": "k1b", "description": "renamed"})
    names = [k["name"] for k in models.api_key.get_all()]
    check("k1b" in names and "k1" not in names, f"renamed: {names!r}")
    s.key_id = k1["id"]


@run.step("provisioning keys: generate one and log in as the fleet", needs=[FLEETS])
def _():
    key = models.application.generate_provisioning_key(s.a["slug"], "prov", "the scenario's", "2099-01-01T00:00:00Z")
    check(isinstance(key, str) and 20 <= len(key) <= 64 and " " not in key, f"a key, got {key!r}")
    fleet = sdk()
    fleet.auth.login_with_token(key)
    me = fleet.auth.whoami()
    eq((me["actorType"], me["actorTypeId"], me["slug"]), ("application", s.a["id"], s.a["slug"]), "whoami as the fleet")
    keys = models.api_key.get_provisioning_api_keys_by_application(s.a["slug"])
    check("prov" in [k["name"] for k in keys], f"prov in {keys!r}")


@run.step("os: get_config for an image of a fleet", needs=[FLEETS])
def _():
    config = models.os.get_config(s.a["slug"], {"version": "6.0.13", "appUpdatePollInterval": 15})
    eq((config["applicationId"], config["appUpdatePollInterval"], config["apiEndpoint"]),
       (s.a["id"], 15 * 60_000, URL.rstrip("/")), "config.json")
    fleet = sdk()
    fleet.auth.login_with_token(config["apiKey"])  # a provisioning key of the fleet
    eq(fleet.auth.whoami()["actorTypeId"], s.a["id"], "whoami with the config's key")


@run.step("api keys: a revoked key logs in no more", needs=["api keys: list and rename"])
def _():
    models.api_key.revoke(s.key_id)
    other = sdk()
    other.auth.login_with_token(s.key)
    eq(other.auth.is_logged_in(), False, "is_logged_in with the revoked key")
    check(s.key_id not in [k["id"] for k in models.api_key.get_all()], "gone from the list")


# --- 12. SSH keys ------------------------------------------------------------------------

@run.step("ssh keys: create, list, get, remove", needs=[LOGIN])
def _():
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKrQ1f0mNq1VSTXh8P0k6mVN6iJp1oHNXP2t9bDbYl9y py@scenario"
    key = models.key.create("py-key", public)
    eq((key["title"], key["public_key"]), ("py-key", public), "created")
    eq([k["title"] for k in models.key.get_all()], ["py-key"], "get_all")
    eq(models.key.get(key["id"])["public_key"], public, "get")
    models.key.remove(key["id"])
    eq(models.key.get_all(), [], "after removal")


# --- 13. clean-up ------------------------------------------------------------------------

@run.step("clean-up: devices and fleets removed, logout", needs=[FLEETS])
def _():
    if DEVICES in run.succeeded:
        models.device.remove(s.uuid2)
        eq(models.device.has(s.uuid2), False, "device removed")
    models.application.remove(s.a["slug"])  # with its releases and its remaining device
    models.application.remove(s.b["id"])
    models.application.remove(s.c["id"])
    eq(models.application.has_any(), False, "no fleet left")
    if DEVICES in run.succeeded:
        eq(models.device.has(s.uuid1), False, "the fleet's device went with it")
    b.auth.logout()
    eq(b.auth.is_logged_in(), False, "is_logged_in after logout")
    eq(b.auth.get_token(), None, "token after logout")
