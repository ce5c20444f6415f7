"""The fleet page of balena's API reference (spec/seeds/000_…): its fifteen curl examples,
run with the real curl against a real `fleetyard serve` on SQLite and on PostgreSQL, as
written with only the host and the token changed (the two pin bodies get the comma the
page lacks). Each example's effect is checked, not only its status."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live import ADMIN, ADMIN_PASSWORD, serve

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@dataclass
class Server:
    base: str
    token: str

    def curl(self, method: str, url: str, data: str | None = None) -> tuple[int, str]:
        """One of the page's commands: `curl -X <method> "<url>" -H … [--data '…']`."""
        args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method,
                url.replace("https://api.balena-cloud.com", self.base),
                "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {self.token}"]
        if data is not None:
            args += ["--data", data]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        body, _, status = out.rpartition("\n")
        return int(status), body

    def get(self, url: str) -> list | int:
        status, body = self.curl("GET", url)
        assert status == 200, body
        return json.loads(body)["d"]


@pytest.fixture(params=["sqlite", "postgres"])
def server(request, tmp_path: Path) -> Iterator[Server]:
    with serve(request.param, tmp_path) as live:
        yield Server(live.base, live.login(ADMIN, ADMIN_PASSWORD))


API = "https://api.balena-cloud.com/v7"


def test_the_fifteen_examples_of_the_fleet_page(server: Server) -> None:
    s = server
    http = httpx.Client(base_url=s.base, headers={"Authorization": f"Bearer {s.token}"}, timeout=30)
    (org,) = http.get("/v7/organization", params={"$filter": f"handle eq '{ADMIN}'"}).json()["d"]
    (dt,) = http.get("/v7/device_type(slug='raspberrypi4-64')?$select=id").json()["d"]

    # Create fleet
    status, body = s.curl("POST", f"{API}/application", f'''{{
"app_name": "FleetPage",
"organization": {org["id"]},
"is_for__device_type": {dt["id"]}
}}''')
    assert status == 201, body
    fleet = json.loads(body)
    fid, slug = fleet["id"], fleet["slug"]
    assert slug == f"{ADMIN}/fleetpage" and fleet["should_track_latest_release"] is True
    assert fleet["organization"] == {"__id": org["id"]} and fleet["is_public"] is False

    # Two successful final releases (the second is the latest) and a device.
    releases = []
    for n, commit in enumerate(("a" * 40, "b" * 40)):
        r = http.post("/v7/release", json={
            "belongs_to__application": fid, "commit": commit, "composition": {}, "status": "success",
            "source": "cloud", "start_timestamp": f"2026-01-0{n + 1}T00:00:00.000Z", "semver": f"1.{n}.0"})
        assert r.status_code == 201, r.text
        releases.append(r.json()["id"])
    old, latest = releases
    r = http.post("/v7/device", json={"belongs_to__application": fid, "is_of__device_type": dt["id"],
                                      "device_name": "page-device"})
    assert r.status_code == 201, r.text

    # Get all fleets of an organization
    rows = s.get(f'{API}/application?$filter=organization/any(o:o/handle%20eq%20%27{ADMIN}%27)')
    assert [f["slug"] for f in rows] == [slug]

    # Get all fleets: the caller's and every public fleet of the platform
    rows = s.get(f"{API}/application")
    assert slug in [f["slug"] for f in rows] and any(f["is_public"] for f in rows)

    # Get all fleets associated with the authenticated user: no public fleet by publicity alone
    rows = s.get(f"{API}/application?$filter=is_directly_accessible_by__user/any(dau:true)")
    assert [f["slug"] for f in rows] == [slug]

    # Get fleet by ID, by SLUG, by name
    assert [f["id"] for f in s.get(f"{API}/application({fid})")] == [fid]
    assert [f["id"] for f in s.get(f"{API}/application(slug='{slug}')")] == [fid]
    assert [f["id"] for f in s.get(f"{API}/application?$filter=app_name%20eq%20'FleetPage'")] == [fid]

    # Get fleet by id along with its devices
    (f,) = s.get(f"{API}/application({fid})?$expand=owns__device")
    assert [d["device_name"] for d in f["owns__device"]] == ["page-device"]

    # Filter public fleets from result
    rows = s.get(f"{API}/application?$filter=is_public%20eq%20false")
    assert rows and not any(f["is_public"] for f in rows) and slug in [f["slug"] for f in rows]

    # Get the target release of a fleet: tracking, so the latest
    target = f"{API}/application(slug='{slug}')?$select=should_be_running__release"
    assert s.get(target) == [{"should_be_running__release": {"__id": latest}}]

    # Pin entire fleet to a specific release by ID (the release id as a JSON string)
    status, body = s.curl("PATCH", f"{API}/application({fid})", f'''{{
"should_be_running__release": "{old}",
"should_track_latest_release": false
}}''')
    assert status == 200 and body == "", body
    assert s.get(target) == [{"should_be_running__release": {"__id": old}}]

    # Pin entire fleet to a specific release by SLUG
    status, body = s.curl("PATCH", f"{API}/application(slug='{slug}')", f'''{{
"should_be_running__release": "{latest}",
"should_track_latest_release": false
}}''')
    assert status == 200, body
    assert s.get(target) == [{"should_be_running__release": {"__id": latest}}]
    s.curl("PATCH", f"{API}/application({fid})", f'{{"should_be_running__release": {old}}}')

    # The page's pin body as printed, without its comma: a 400 saying where it broke.
    status, body = s.curl("PATCH", f"{API}/application({fid})", f'''{{
"should_be_running__release": "{latest}"
"should_track_latest_release": false
}}''')
    assert status == 400 and "line 3" in body, body

    # Disable automatic update tracking: the target stays where it is
    status, _ = s.curl("PATCH", f"{API}/application({fid})", '''{
"should_track_latest_release": "false"
}''')
    assert status == 200
    (f,) = s.get(f"{API}/application({fid})?$select=should_track_latest_release,should_be_running__release")
    assert f == {"should_track_latest_release": False, "should_be_running__release": {"__id": old}}

    # Enable automatic update tracking: the fleet follows the latest release again
    status, _ = s.curl("PATCH", f"{API}/application({fid})", '''{
"should_track_latest_release": "true"
}''')
    assert status == 200
    (f,) = s.get(f"{API}/application({fid})?$select=should_track_latest_release,should_be_running__release")
    assert f == {"should_track_latest_release": True, "should_be_running__release": {"__id": latest}}

    # Delete fleet: it and what it owns are gone
    status, body = s.curl("DELETE", f"{API}/application({fid})")
    assert status == 200, body
    assert s.get(f"{API}/application({fid})") == []
    assert s.get(f"{API}/device/$count?$filter=device_name%20eq%20'page-device'") == 0
    assert s.get(f"{API}/release/$count?$filter=belongs_to__application%20eq%20{fid}") == 0
