"""A scenario's outcomes as pytest tests: one test per step, in the scenario's order.

The step names are read from the scenario's source (`step("…"`), so the tests exist before
any client runs; the outcomes come from running the scenario once per server. A step that
failed because a route another issue owns is not served yet is an expected failure
(`pytest.xfail` inside the step, naming what is missing and which issue), and so is a step
blocked by such a step; any other failure fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

_STEP = re.compile(r"""step\(\s*(?:"([^"]+)"|'([^']+)'|([A-Z_]+))""")
_CONSTANT = re.compile(r"""^\s*(?:const\s+)?([A-Z_]+)\s*=\s*(?:"([^"]+)"|'([^']+)')""", re.MULTILINE)

# Routes that belong to another issue and are not there yet: (what the failure shows, why).
MISSING: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/api-key/\S* -> 404|Not found: /api-key/"),
     "POST /api-key/… (user, provisioning and device keys) is not served yet — issue 4"),
    (re.compile(r"POST /v7/organization -> (?:400 .*handle.* is required|401)"),
     ("POST /v7/organization with only a name (handle generated, creator its administrator) is not "
      "there yet — issue 4")),
    (re.compile(r"/device/register -> 404|Not found: /device/register"),
     "POST /device/register is not served yet — issue 5"),
    (re.compile(r"/user/v1/refresh-token -> 404|Not found: /user/v1/refresh-token"),
     "GET /user/v1/refresh-token is not served yet — issue 4"),
    (re.compile(r"/device-types/v1\S* -> 404|Not found: /device-types/v1"),
     "GET /device-types/v1 is not served yet — issue 5"),
]


def step_names(script: Path) -> list[str]:
    """The steps a scenario declares, in order (constants such as FLEETS = "…" resolved)."""
    source = script.read_text()
    constants = {name: double or single for name, double, single in _CONSTANT.findall(source)}
    names = []
    for quoted, single, constant in _STEP.findall(source):
        name = quoted or single or constants.get(constant)
        if name and name not in names:
            names.append(name)
    return names


@dataclass
class Run:
    """What one run of a scenario reported."""

    outcomes: dict[str, dict] = field(default_factory=dict)
    output: str = ""  # everything else it printed (the end of it explains a crash)

    @classmethod
    def parse(cls, text: str, extra: str = "") -> Run:
        run = cls()
        rest = []
        for line in text.splitlines():
            try:
                outcome = json.loads(line)
            except ValueError:
                outcome = None
            if isinstance(outcome, dict) and "step" in outcome:
                run.outcomes[outcome["step"]] = outcome
            else:
                rest.append(line)
        run.output = "\n".join(rest + [extra]).strip()
        return run

    def record(self, outcome: dict) -> None:
        self.outcomes[outcome["step"]] = outcome


def missing_route(error: str) -> str | None:
    for pattern, reason in MISSING:
        if pattern.search(error):
            return reason
    return None


def assert_step(run: Run, step: str) -> None:
    outcome = run.outcomes.get(step)
    if outcome is None:
        pytest.fail(f"the scenario never reported this step; its output ends:\n{run.output[-3000:]}", pytrace=False)
    if outcome["ok"]:
        return
    if "blocked" in outcome:
        blocker = run.outcomes.get(outcome["blocked"], {})
        reason = missing_route(blocker.get("error", ""))
        if reason is None and "blocked" in blocker:  # blocked by a blocked step: follow the chain
            reason = missing_route(run.outcomes.get(blocker["blocked"], {}).get("error", ""))
        if reason:
            pytest.xfail(f"needs the step '{outcome['blocked']}': {reason}")
        pytest.fail(f"needs the step '{outcome['blocked']}', which did not succeed", pytrace=False)
    reason = missing_route(outcome["error"])
    if reason:
        pytest.xfail(reason)
    pytest.fail(outcome["error"], pytrace=False)
