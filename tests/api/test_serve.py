"""`fleetyard serve` for real: Granian in a subprocess on a free loopback port with a
throw-away SQLite file, spoken to over HTTP; and the command's refusals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fleetyard.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "server.log").open("w+")
    env = {**os.environ, "FLEETYARD_HOST": "127.0.0.1", "FLEETYARD_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleetyard.cli.main", "serve",
         "--database", f"sqlite:///{tmp_path / 'serve.db'}", "--model", "tests.odata.model:MODEL"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"fleetyard serve exited with {proc.returncode}:\n{log.read()}")
            try:
                if httpx.get(base + "/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"fleetyard serve did not answer within 30 s:\n{log.read()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)  # Granian stops its workers on SIGINT
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
