"""The step runner the Python-written scenarios share (the Python SDK's, run in the SDK's own
venv, and the CLI's): standard library only.

A step runs when it is declared (`@run.step("name")` on a function), in order; its outcome
is one JSON object — `{"step", "ok"}`, plus `error` when it failed, or `blocked` naming the
earlier step it needs that did not succeed. The JS scenario prints the same objects, and
tests/clients/outcomes.py turns each into a pytest test.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any


class Runner:
    def __init__(self, emit: Callable[[dict[str, Any]], None] | None = None):
        self.emit = emit or (lambda outcome: print(json.dumps(outcome), flush=True))
        self.succeeded: set[str] = set()

    def step(self, name: str, needs: Iterable[str] = ()) -> Callable[[Callable[[], Any]], None]:
        def run(fn: Callable[[], Any]) -> None:
            missing = next((n for n in needs if n not in self.succeeded), None)
            if missing is not None:
                self.emit({"step": name, "ok": False, "blocked": missing})
                return
            try:
                fn()
            except Exception as exc:  # every failure is the step's outcome, never the run's end
                self.emit({"step": name, "ok": False, "error": describe(exc)})
                return
            self.succeeded.add(name)
            self.emit({"step": name, "ok": True})

        return run


def describe(exc: BaseException) -> str:
    """The error with the scenario line that raised it (the clients' own frames are noise)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "scenario" in f.filename]
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}: {frames[-1].line})" if frames else ""
    text = str(exc) or repr(exc)
    if isinstance(exc, AssertionError) and not str(exc):
        text = "assertion failed"
    return f"{type(exc).__name__}: {text}{where}"


def check(condition: Any, message: str = "") -> None:
    """An assertion that survives `python -O` and says what it saw."""
    if not condition:
        raise AssertionError(message or "check failed")


def eq(actual: Any, expected: Any, what: str = "value") -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def raises(kind: type[BaseException] | tuple[type[BaseException], ...], fn: Callable[[], Any],
           what: str = "call") -> BaseException:
    try:
        fn()
    except kind as exc:
        return exc
    raise AssertionError(f"{what} should have raised {kind}")


if __name__ == "__main__":  # pragma: no cover - a module, not a program
    sys.exit("tests/clients/steps.py is imported by the scenarios")
