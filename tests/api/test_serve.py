"""`fleetyard serve` for real: Granian in a subprocess on a free loopback port with a
throw-away SQLite file, spoken to over HTTP; and the command's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fleetyard.cli.main import cli
from tests.live import running

@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with running(f"sqlite:///{tmp_path / 'serve.db'}", tmp_path / "server.log",
                 args=("--model", "tests.odata.model:MODEL"), timeout=30) as (base, _):
        yield base


def test_serve_answers_over_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        r = http.get("/ping")
        assert r.status_code == 200 and r.text == "OK"
        assert r.headers["content-type"].startswith("text/plain")
        r = http.get("/v7/pilot")
        assert r.status_code == 200 and r.json() == {"d": []}
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        # Granian hands over the raw path: the %2F inside the key survives.
        r = http.post("/v7/team", json={"favourite_colour": "a/b", "name": "Slash"})
        assert r.status_code == 201 and r.headers["location"] == "/v7/team(@id)?@id='a%2Fb'"
        assert http.get("/v7/team('a%2Fb')?$select=name").json() == {"d": [{"name": "Slash"}]}
        r = http.request("MERGE", "/v7/team('a%2Fb')", json={"name": "Slashed"})
        assert r.status_code == 200 and r.content == b""
        r = http.get("/v5/team")
        assert r.status_code == 404 and r.headers["x-fleetyard-error"] == "http.not_found"


def test_serve_refuses_a_model_it_cannot_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(cli, ["serve", "--database", url, "--model", "no_such_module:MODEL"])
    assert result.exit_code == 2 and "cannot import" in result.output


def test_serve_without_the_default_model_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("fleetyard.api.app.DEFAULT_MODEL", "no_such_package.balena:MODEL")
    result = CliRunner().invoke(cli, ["serve", "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2
    assert "no_such_package.balena:MODEL" in result.output and "--model" in result.output


def test_serve_reports_a_bad_database_url() -> None:
    result = CliRunner().invoke(cli, ["serve", "--database", "mysql://x/y", "--model", "tests.odata.model:MODEL"])
    assert result.exit_code == 1 and "unsupported database URL" in result.output


def test_serve_takes_at_least_one_worker() -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "0", "--model", "tests.odata.model:MODEL"])
    assert result.exit_code == 2 and "--workers" in result.output


def test_serve_refuses_a_wrong_device_setting_before_starting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLEETYARD_MIN_POLL_INTERVAL_MS", "ten minutes")
    result = CliRunner().invoke(cli, ["serve", "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1 and "FLEETYARD_MIN_POLL_INTERVAL_MS" in result.output
    assert not (tmp_path / "x.db").exists()  # nothing was opened


def test_serve_refuses_a_wrong_trusted_proxy(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLEETYARD_TRUSTED_PROXIES", "10.0.0.1, proxy.example")
    result = CliRunner().invoke(cli, ["serve", "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1 and "FLEETYARD_TRUSTED_PROXIES" in result.output and "proxy.example" in result.output
