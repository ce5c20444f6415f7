"""`fleetyard serve` on the balena model for real, over HTTP, on SQLite and PostgreSQL:
a fresh database gets the admin with a generated password printed once (two workers, one
line), that password logs in, and a token outlives a restart of the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.live import running

PASSWORD_LINE = re.compile(r"created the admin user 'admin' with the password (\S+)")


@contextmanager
def serving(database_url: str, log_path: Path, workers: int = 1) -> Iterator[str]:
    with running(database_url, log_path, args=("--workers", str(workers))) as (base, _):
        yield base


def test_first_start_prints_the_admin_password_once_and_it_logs_in(database_url: str, tmp_path: Path):
    log = tmp_path / "server.log"
    with serving(database_url, log, workers=2) as base, httpx.Client(base_url=base, timeout=10) as http:
        passwords = PASSWORD_LINE.findall(log.read_text())
        assert len(passwords) == 1, log.read_text()
        r = http.post("/login_", json={"username": "admin", "password": passwords[0]})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        token = r.text
        who = http.get("/actor/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json()["username"] == "admin"
        assert http.get("/v7/device").status_code == 401  # no credentials: the guest
        assert http.get("/v7/device", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert http.get("/v7/device_type(slug='raspberrypi5')?$select=slug").json() == {"d": [{"slug": "raspberrypi5"}]}
    # a restart: no new admin, and the signing secret kept in the database still holds
    with serving(database_url, log) as base, httpx.Client(base_url=base, timeout=10) as http:
        assert len(PASSWORD_LINE.findall(log.read_text())) == 1
        who = http.get("/user/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json()["username"] == "admin"
