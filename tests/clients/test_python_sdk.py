"""balena-sdk for Python (tools.PYTHON_SDK) against fleetyard: the scenario of clients.md §8.2,
run once per database by the SDK's own venv, each step a test."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.clients import tools
from tests.clients.conftest import Fleetyard, installed
from tests.clients.outcomes import Run, assert_step, step_names

SCENARIO = Path(__file__).parent / "py" / "scenario.py"


@pytest.fixture(scope="module")
def python_sdk() -> Path:
    return installed(tools.python_sdk, f"balena-sdk {tools.PYTHON_SDK} for Python")


@pytest.fixture(scope="module")
def scenario(python_sdk: Path, fleetyard: Fleetyard) -> Run:
    env = {**os.environ, **fleetyard.env(), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("BALENA_API_KEY", None)
    env.pop("RESIN_API_KEY", None)  # the SDK falls back on these without a token
    try:
        done = subprocess.run([str(python_sdk), str(SCENARIO)], env=env, capture_output=True, text=True,
                              check=False, timeout=600, stdin=subprocess.DEVNULL, cwd=SCENARIO.parent)
    except subprocess.TimeoutExpired as e:
        return Run.parse(e.stdout or "", f"the scenario did not finish within 600 s\n{e.stderr or ''}")
    return Run.parse(done.stdout, f"exit status {done.returncode}\n{done.stderr}")


@pytest.mark.parametrize("step", step_names(SCENARIO))
def test_step(scenario: Run, step: str) -> None:
    assert_step(scenario, step)
