"""The dashboard in headless Chromium against a real `fleetyard serve`, on SQLite and on
PostgreSQL: log in, see two fleets, open one, watch devices change status live while
simulated devices connect and disconnect, filter and sort, pin a release and see the
devices' target change, a device's page (history, pin, variables, tags, streaming logs),
create and revoke an API key; a user of another organization sees none of it.

The tests of one database share one server and one world, in file order; each page is
screenshotted to artifacts/web/<database>/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.live import (
    Device,
    Server,
    add_device,
    create_fleet,
    create_release,
    organization_id,
    serve,
    wait_for,
)
from tests.web.conftest import screenshot

ALICE, ALICE_PASSWORD = "alice", "alice-dashboard-pw-1"
BOB, BOB_PASSWORD = "bob", "bob-dashboard-pw-1"
CAROL, CAROL_PASSWORD = "carol", "carol-dashboard-pw-1"
OLD, LATEST = "1.0.0 (aaaaaaa)", "1.1.0 (bbbbbbb)"


@dataclass
class World:
    dialect: str
    server: Server
    alice: httpx.Client
    bob: httpx.Client
    greenhouse: dict
    warehouse: dict
    bobyard: dict
    old: dict
    latest: dict
    devices: dict[str, Device]

    @property
    def base(self) -> str:
        return self.server.base

    def url(self, path: str) -> str:
        return self.server.base + "/dashboard" + path

    def shot(self, page: Page, name: str) -> Path:
        return screenshot(page, self.dialect, name)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp(f"web-{request.param}")
    with serve(request.param, tmp) as server:
        server.add_user(ALICE, ALICE_PASSWORD)
        server.add_user(BOB, BOB_PASSWORD)
        server.add_user(CAROL, CAROL_PASSWORD)
        alice = server.client(server.login(ALICE, ALICE_PASSWORD))
        bob = server.client(server.login(BOB, BOB_PASSWORD))
        org = organization_id(alice, ALICE)
        greenhouse = create_fleet(alice, org, "Greenhouse")
        warehouse = create_fleet(alice, org, "Warehouse")
        bobyard = create_fleet(bob, organization_id(bob, BOB), "Bobyard")
        old = create_release(alice, greenhouse["id"], "a" * 40, "1.0.0", 1)
        latest = create_release(alice, greenhouse["id"], "b" * 40, "1.1.0", 2)
        devices = {name: add_device(server, alice, greenhouse["id"], name)
                   for name in ("gh-sensor-1", "gh-sensor-2", "gh-camera")}
        devices["wh-gate"] = add_device(server, alice, warehouse["id"], "wh-gate")
        devices["bob-device"] = add_device(server, bob, bobyard["id"], "bob-device")
        # Alice has a key of her own made through the API: Bob never sees it.
        assert alice.post("/api-key/user/full", json={"name": "alice-api"}).status_code in (200, 404)
        try:
            yield World(request.param, server, alice, bob, greenhouse, warehouse, bobyard, old, latest, devices)
        finally:
            for device in devices.values():
                device._stop.set()
            alice.close()
            bob.close()


def log_in(page: Page, world: World, username: str, password: str) -> None:
    page.goto(world.url("/"))
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("username")).to_have_text(username)


def device_row(page: Page, name: str):
    return page.locator(f"#devices tr[data-device='{name}']")


# --- logging in and the fleet list ------------------------------------------------------------


def test_log_in_and_see_the_two_fleets(page: Page, world: World) -> None:
    page.goto(world.url("/"))
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    world.shot(page, "01-login")

    page.fill("input[name=username]", ALICE)
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    world.shot(page, "02-login-refused")

    page.fill("input[name=username]", ALICE)
    page.fill("input[name=password]", ALICE_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(world.url("/"))
    rows = page.locator("[data-testid=fleets] tbody tr")
    expect(rows).to_have_count(2)
    assert [rows.nth(i).get_attribute("data-fleet") for i in range(2)] == ["alice/greenhouse", "alice/warehouse"]
    greenhouse = page.locator("tr[data-fleet='alice/greenhouse']")
    expect(greenhouse.get_by_test_id("device-count")).to_have_text("3")
    expect(greenhouse.get_by_test_id("fleet-target")).to_contain_text(LATEST)
    expect(page.locator("tr[data-fleet='alice/warehouse']").get_by_test_id("device-count")).to_have_text("1")
    expect(page.locator("tr[data-fleet='bob/bobyard']")).to_have_count(0)
    world.shot(page, "03-fleets")

    # The session cookie is HttpOnly, SameSite=Strict: scripts cannot read the token.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "fleetyard_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "fleetyard_session" not in page.evaluate("document.cookie")


# --- a fleet: live status, filter and sort, pinning ---------------------------------------------


def test_devices_change_status_live(page: Page, world: World) -> None:
    log_in(page, world, ALICE, ALICE_PASSWORD)
    page.click("text=Greenhouse")
    expect(page.get_by_test_id("fleet-name")).to_have_text("Greenhouse")
    expect(page.locator("#devices tbody tr")).to_have_count(3)
    for name in ("gh-sensor-1", "gh-sensor-2", "gh-camera"):  # never seen: configuring (§4.6 row 3)
        expect(device_row(page, name).locator("[data-col=status]")).to_have_text("configuring")
    page.evaluate("window.__notReloaded = true")  # gone if the page reloads

    sensor1, sensor2 = world.devices["gh-sensor-1"], world.devices["gh-sensor-2"]
    sensor1.connect()
    sensor2.connect()
    for device in (sensor1, sensor2):
        expect(device_row(page, device.name).locator("[data-col=status]")).to_have_text("operational")
    expect(page.locator("#devices [data-status=operational] b")).to_have_text("2")
    world.shot(page, "04-fleet-two-online")

    sensor2.disconnect()  # the VPN drops it and it stops polling: its heartbeat times out
    expect(device_row(page, "gh-sensor-2").locator("[data-col=status]")).to_have_text("disconnected")
    expect(device_row(page, "gh-sensor-1").locator("[data-col=status]")).to_have_text("operational")
    expect(page.locator("#devices [data-status=disconnected] b")).to_have_text("1")
    assert page.evaluate("window.__notReloaded") is True
    world.shot(page, "05-fleet-one-disconnected")

    sensor2.connect()  # and back
    expect(device_row(page, "gh-sensor-2").locator("[data-col=status]")).to_have_text("operational")
    assert page.evaluate("window.__notReloaded") is True

    # What the page shows is what the API answers (the page is at most one poll behind).
    def same() -> bool:
        rows = world.alice.get(f"/v7/device?$select=device_name,overall_status"
                               f"&$filter=belongs_to__application%20eq%20{world.greenhouse['id']}")
        assert rows.status_code == 200, rows.text
        api = {r["device_name"]: r["overall_status"] for r in rows.json()["d"]}
        return api == {name: device_row(page, name).locator("[data-col=status]").inner_text() for name in api}

    wait_for(same, timeout=10, what="the page to show the API's statuses")


def test_filter_and_sort_devices(page: Page, world: World) -> None:
    log_in(page, world, ALICE, ALICE_PASSWORD)
    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    names = page.locator("#devices tbody tr")

    page.fill("input[name=q]", "camera")
    expect(names).to_have_count(1)
    expect(device_row(page, "gh-camera")).to_have_count(1)
    page.fill("input[name=q]", "")
    expect(names).to_have_count(3)

    page.select_option("select[name=status]", "configuring")
    expect(names).to_have_count(1)
    expect(device_row(page, "gh-camera")).to_have_count(1)
    world.shot(page, "06-fleet-filtered")
    page.select_option("select[name=status]", "")
    expect(names).to_have_count(3)

    page.select_option("select[name=sort]", "name")
    page.select_option("select[name=dir]", "desc")
    expect(names.first).to_have_attribute("data-device", "gh-sensor-2")
    page.click("a[data-sort=name]")  # a header sorts too: the same column again turns the order
    expect(names.first).to_have_attribute("data-device", "gh-camera")
    # The filter holds across the live refresh.
    page.fill("input[name=q]", "sensor")
    expect(names).to_have_count(2)
    page.wait_for_timeout(2500)
    expect(names).to_have_count(2)


def test_pin_a_release_and_the_devices_target_follows(page: Page, world: World) -> None:
    log_in(page, world, ALICE, ALICE_PASSWORD)
    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    expect(page.get_by_test_id("fleet-target")).to_have_text(LATEST)
    for name in ("gh-sensor-1", "gh-sensor-2", "gh-camera"):
        expect(device_row(page, name).locator("[data-col=target]")).to_have_text(LATEST)

    page.locator("tr[data-release=aaaaaaa] [data-testid=pin]").click()
    expect(page.get_by_test_id("fleet-target")).to_have_text(OLD)
    expect(page.get_by_test_id("tracking")).to_have_text("pinned")
    for name in ("gh-sensor-1", "gh-sensor-2", "gh-camera"):
        expect(device_row(page, name).locator("[data-col=target]")).to_have_text(OLD)
    fleet = world.alice.get(f"/v7/application({world.greenhouse['id']})"
                            "?$select=should_be_running__release,should_track_latest_release").json()["d"][0]
    assert fleet == {"should_be_running__release": {"__id": world.old["id"]}, "should_track_latest_release": False}
    world.shot(page, "07-fleet-pinned")

    page.get_by_role("button", name="Track latest").click()
    expect(page.get_by_test_id("fleet-target")).to_have_text(LATEST)
    for name in ("gh-sensor-1", "gh-sensor-2", "gh-camera"):
        expect(device_row(page, name).locator("[data-col=target]")).to_have_text(LATEST)

    # Fleet variables and tags, through the domain rules: a reserved name is refused.
    env = page.get_by_test_id("env-values")
    env.locator("input[name=key]").fill("GREETING")
    env.locator("input[name=value]").fill("hello")
    env.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("env-values").locator("tr[data-key=GREETING]")).to_contain_text("hello")
    env = page.get_by_test_id("env-values")
    env.locator("input[name=key]").fill("BALENA_API_KEY")
    env.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("env-values").get_by_role("alert")).to_be_visible()
    tags = page.get_by_test_id("tags-values")
    tags.locator("input[name=key]").fill("site")
    tags.locator("input[name=value]").fill("north")
    tags.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("tags-values").locator("tr[data-key=site]")).to_contain_text("north")
    rows = world.alice.get(f"/v7/application_tag?$select=tag_key,value"
                           f"&$filter=application%20eq%20{world.greenhouse['id']}").json()["d"]
    assert rows == [{"tag_key": "site", "value": "north"}]
    world.shot(page, "08-fleet-variables")
    page.get_by_test_id("tags-values").get_by_role("button", name="Remove site").click()
    expect(page.get_by_test_id("tags-values").locator("tr[data-key=site]")).to_have_count(0)


# --- a device ----------------------------------------------------------------------------------


def test_device_page(page: Page, world: World) -> None:
    sensor = world.devices["gh-sensor-1"]
    sensor.report(os_version="balenaOS 6.0.1", os_variant="prod", supervisor_version="16.4.0",
                  apps={world.greenhouse["uuid"]: {"release_uuid": world.latest["commit"], "releases": {}}})
    sensor.logs("booting", "sensor ready")
    log_in(page, world, ALICE, ALICE_PASSWORD)
    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    device_row(page, "gh-sensor-1").get_by_role("link").click()
    expect(page.get_by_test_id("device-name")).to_have_text("gh-sensor-1")
    expect(page.get_by_test_id("device-status")).to_have_text("operational")
    expect(page.get_by_test_id("device-running")).to_have_text(LATEST)
    expect(page.get_by_test_id("device-target")).to_have_text(LATEST)

    logs = page.get_by_test_id("logs")
    expect(logs).to_contain_text("booting")
    expect(logs).to_contain_text("sensor ready")
    sensor.logs("a new line while the page is open")  # streamed, not polled
    expect(logs).to_contain_text("a new line while the page is open")

    history = page.get_by_test_id("history").locator("tbody tr")
    before = history.count()
    page.select_option("[data-testid=pin-select]", str(world.old["id"]))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("device-target")).to_have_text(f"{OLD} pinned")
    expect(history).to_have_count(before + 1)  # the pin opened a new history entry
    expect(history.first).to_contain_text(OLD)
    (row,) = world.alice.get(f"/v7/device({sensor.id})?$select=is_pinned_on__release").json()["d"]
    assert row == {"is_pinned_on__release": {"__id": world.old["id"]}}
    # The fleet page shows the device's own target.
    tags = page.get_by_test_id("tags-values")
    tags.locator("input[name=key]").fill("room")
    tags.locator("input[name=value]").fill("3")
    tags.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("tags-values").locator("tr[data-key=room]")).to_contain_text("3")
    config = page.get_by_test_id("config-values")
    config.locator("input[name=key]").fill("BALENA_SUPERVISOR_POLL_INTERVAL")
    config.locator("input[name=value]").fill("900000")
    config.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("config-values").locator("tr[data-key=BALENA_SUPERVISOR_POLL_INTERVAL]")).to_be_visible()
    world.shot(page, "09-device")

    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    expect(device_row(page, "gh-sensor-1").locator("[data-col=target]")).to_have_text(f"{OLD} pinned")
    expect(device_row(page, "gh-sensor-2").locator("[data-col=target]")).to_have_text(LATEST)

    page.goto(world.url(f"/devices/{sensor.uuid}"))
    page.select_option("[data-testid=pin-select]", "")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("device-target")).to_have_text(LATEST)


# --- API keys ----------------------------------------------------------------------------------


def test_create_and_revoke_a_key(page: Page, world: World) -> None:
    log_in(page, world, ALICE, ALICE_PASSWORD)
    page.get_by_role("link", name="API keys").click()
    page.fill("input[name=name]", "dashboard-key")
    page.fill("input[name=description]", "made in the browser")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("key-value").inner_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9]{32}", key)
    expect(page.locator("tr[data-key=dashboard-key]")).to_contain_text("made in the browser")
    world.shot(page, "10-key-created")

    r = httpx.get(world.base + "/user/v1/whoami", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["username"] == ALICE
    page.goto(world.url("/keys"))
    expect(page.get_by_test_id("key-value")).to_have_count(0)  # shown once
    assert key not in page.content()

    page.locator("tr[data-key=dashboard-key]").get_by_role("button", name="Revoke").click()
    expect(page.locator("tr[data-key=dashboard-key]")).to_have_count(0)
    world.shot(page, "11-key-revoked")
    wait_for(lambda: httpx.get(world.base + "/user/v1/whoami",
                               headers={"Authorization": f"Bearer {key}"}).status_code == 401,
             timeout=10, what="the revoked key to be refused")


# --- another organization -----------------------------------------------------------------------


def test_a_user_of_another_organization_sees_none_of_it(page: Page, world: World) -> None:
    log_in(page, world, BOB, BOB_PASSWORD)
    rows = page.locator("[data-testid=fleets] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-fleet", "bob/bobyard")
    assert "Greenhouse" not in page.content() and "Warehouse" not in page.content()
    world.shot(page, "12-other-user-fleets")

    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "gh-sensor" not in page.content()
    world.shot(page, "13-other-user-not-found")
    sensor = world.devices["gh-sensor-1"]
    assert page.goto(world.url(f"/devices/{sensor.uuid}")).status == 404
    assert page.goto(world.url(f"/fleets/{world.greenhouse['id']}/devices")).status == 404
    assert page.goto(world.url(f"/devices/{sensor.uuid}/logs")).status == 404

    page.goto(world.url("/keys"))
    expect(page.get_by_test_id("no-keys")).to_be_visible()

    # A forged button press on Alice's fleet: not there for Bob, and nothing changes.
    page.goto(world.url("/"))
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    answer = page.request.post(world.url(f"/fleets/{world.greenhouse['id']}/pin"),
                               form={"release": str(world.old["id"])}, headers={"X-CSRF-Token": csrf})
    assert answer.status == 404
    fleet = world.alice.get(f"/v7/application({world.greenhouse['id']})"
                            "?$select=should_track_latest_release").json()["d"][0]
    assert fleet["should_track_latest_release"] is True
    # Without the form's token, even his own fleet's buttons refuse.
    answer = page.request.post(world.url(f"/fleets/{world.bobyard['id']}/track-latest"))
    assert answer.status == 403

    # And the API agrees: Bob reads none of Alice's fleets.
    rows = world.bob.get("/v7/application?$filter=organization/any(o:o/handle%20eq%20'alice')").json()
    assert rows == {"d": []}


def test_logging_out_ends_the_session(page: Page, world: World) -> None:
    log_in(page, world, ALICE, ALICE_PASSWORD)
    # A session that ends under an open page: its next poll takes the tab to the login
    # form, which brings it back to that page.
    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    page.context.clear_cookies()
    expect(page).to_have_url(re.compile(rf"/dashboard/login\?next=/dashboard/fleets/{world.greenhouse['id']}$"))
    page.fill("input[name=username]", ALICE)
    page.fill("input[name=password]", ALICE_PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("fleet-name")).to_have_text("Greenhouse")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/login"))
    page.goto(world.url(f"/fleets/{world.greenhouse['id']}"))
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next=/dashboard/fleets/"))


def test_the_login_form_has_the_rate_limits_of_login_(page: Page, world: World) -> None:
    """The form goes through /login_ itself: failures through either count together, and
    once the account is refused, it is refused in both, the right password too."""
    form = httpx.Client(base_url=world.url(""), timeout=60)
    statuses = [form.post("/login", data={"username": CAROL, "password": f"wrong-{i}"}).status_code
                for i in range(5)]
    statuses += [httpx.post(world.base + "/login_", json={"username": CAROL, "password": f"wrong-api-{i}"},
                            timeout=60).status_code for i in range(5)]
    assert statuses == [401] * 10
    refused = httpx.post(world.base + "/login_", json={"username": CAROL, "password": CAROL_PASSWORD}, timeout=60)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0

    page.goto(world.url("/login"))
    page.fill("input[name=username]", CAROL)
    page.fill("input[name=password]", CAROL_PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts")
    expect(page.get_by_test_id("username")).to_have_count(0)
    world.shot(page, "14-login-rate-limited")
    # Other accounts are not held up by it.
    log_in(page, world, BOB, BOB_PASSWORD)
