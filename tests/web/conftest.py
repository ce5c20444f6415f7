"""Browser tests of the dashboard: Debian's chromium driven by Playwright through its
`executable_path` (Playwright's own browser download does not work here), against a real
`fleetyard serve` on SQLite and on PostgreSQL.

The chromium package is installed here when it is missing (as root, or with sudo), once
per session. Chromium runs headless with the flags this machine needs (no sandbox as
root, no GPU, no background networking to hosts it cannot reach) and a fresh profile.
Screenshots of each page go to artifacts/web/<database>/ in the repository (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import ROOT

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
ARTIFACTS = ROOT / "artifacts" / "web"


def _install_chromium() -> str | None:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(sudo + command, check=False, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr[-2000:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        problem = _install_chromium()
        path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
        if path is None:
            message = f"Debian's chromium could not be installed: {problem}"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event
    loop running in the main thread while it is started, and later modules' tests call
    `asyncio.run` there."""
    from playwright.sync_api import expect, sync_playwright

    # Pages change within a few polls: a device times out 4.5 s after its last fetch.
    expect.set_options(timeout=20_000)

    with sync_playwright() as pw:
        # Playwright gives each launch a new empty profile (--user-data-dir) of its own.
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A new browser context per test: its own cookies, so its own session."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


@pytest.fixture
def second_page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def screenshot(page, dialect: str, name: str) -> Path:
    """A test artefact: the whole page as it is now."""
    folder = ARTIFACTS / dialect
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
