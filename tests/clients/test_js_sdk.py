"""balena-sdk for JavaScript (tools.JS_SDK) under Node.js 24 against fleetyard: the scenario
of clients.md §8.2 in js/scenario.mjs, run once per database, each step a test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.clients import tools
from tests.clients.conftest import Fleetyard, installed
from tests.clients.outcomes import Run, assert_step, step_names

SCENARIO = Path(__file__).parent / "js" / "scenario.mjs"


@pytest.fixture(scope="module")
def js_sdk() -> tuple[Path, Path]:
    node = installed(tools.node, f"Node.js {tools.NODE}")
    return node, installed(tools.js_sdk, f"balena-sdk {tools.JS_SDK} for JavaScript")


@pytest.fixture(scope="module")
def scenario(js_sdk: tuple[Path, Path], fleetyard: Fleetyard) -> Run:
    node, modules = js_sdk
    env = {**tools.node_env(), **fleetyard.env(), "BALENA_SDK_DIR": str(modules)}
    try:
        done = subprocess.run([str(node), str(SCENARIO)], env=env, capture_output=True, text=True,
                              check=False, timeout=600, stdin=subprocess.DEVNULL, cwd=SCENARIO.parent)
    except subprocess.TimeoutExpired as e:
        return Run.parse(e.stdout or "", f"the scenario did not finish within 600 s\n{e.stderr or ''}")
    return Run.parse(done.stdout, f"exit status {done.returncode}\n{done.stderr}")


@pytest.mark.parametrize("step", step_names(SCENARIO))
def test_step(scenario: Run, step: str) -> None:
    assert_step(scenario, step)
