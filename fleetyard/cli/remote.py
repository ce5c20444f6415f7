"""What the operator's commands (`cli/operator.py`) share: the stored token, a small HTTP
client of a fleetyard server (stdlib only: the CLI starts fast), and output helpers.

The token lives in ~/.config/fleetyard/cli.json (or $FLEETYARD_CLI_CONFIG), readable by
its owner only; FLEETYARD_URL and FLEETYARD_TOKEN override what is stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib import error, request
from urllib.parse import quote

import click

from fleetyard.config import DEFAULT_HOST, DEFAULT_PORT
from fleetyard.web import reads

CONFIG_VAR, URL_VAR, TOKEN_VAR = "FLEETYARD_CLI_CONFIG", "FLEETYARD_URL", "FLEETYARD_TOKEN"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
STATUS_STYLES = {
    "operational": "green", "updating": "blue", "reduced-functionality": "yellow", "configuring": "magenta",
    "post-provisioning": "magenta", "disconnected": "red", "inactive": "grey50",
}

# --- where the token is kept ----------------------------------------------------------------


def config_path() -> Path:
    if os.environ.get(CONFIG_VAR):
        return Path(os.environ[CONFIG_VAR])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "fleetyard" / "cli.json"


def load_config() -> dict[str, Any]:
    try:
        return json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}


def save_config(values: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only, before the token is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f, indent=2)
    os.chmod(path, 0o600)
    return path


# --- talking to the server --------------------------------------------------------------------


class Api:
    def __init__(self, url: str, token: str | None):
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: object = None) -> tuple[int, bytes, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        req = request.Request(self.url + quote(path, safe="/?&=$(),'@:*+%;!~"), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with request.urlopen(req, timeout=30) as answer:
                return answer.status, answer.read(), dict(answer.headers)
        except error.HTTPError as e:
            return e.code, e.read(), dict(e.headers or {})
        except error.URLError as e:
            raise click.ClickException(f"cannot reach {self.url}: {e.reason}") from None

    def ok(self, method: str, path: str, body: object = None) -> bytes:
        status, data, _ = self.call(method, path, body)
        if status == 401:
            raise click.ClickException("not authorised: log in again with `fleetyard login`")
        if status >= 400:
            raise click.ClickException(f"the server answered {status}: {_message(data)}")
        return data

    def d(self, odata_path: str) -> Any:
        return json.loads(self.ok("GET", "/v7" + odata_path))["d"]


def _message(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text or "(no message)"
    return value if isinstance(value, str) else str(value.get("message", value) if isinstance(value, dict) else value)


def connect() -> Api:
    stored = load_config()
    url = os.environ.get(URL_VAR) or stored.get("url") or DEFAULT_URL
    token = os.environ.get(TOKEN_VAR) or stored.get("token")
    if not token:
        raise click.ClickException("not logged in: run `fleetyard login` first")
    return Api(url, token)


def whoami(api: Api) -> dict[str, Any]:
    return json.loads(api.ok("GET", "/actor/v1/whoami"))


def find_fleet(api: Api, slug: str) -> dict:
    rows = api.d(reads.fleet_url(slug))
    if not rows:
        raise click.ClickException(f"no fleet {slug!r} that you may see")
    return reads.shape_fleet(rows[0])


# --- output -----------------------------------------------------------------------------------


def console():
    from rich.console import Console

    return Console(highlight=False)


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2))


def release_json(release: dict | None) -> dict | None:
    if not release:
        return None
    return {"id": release["id"], "commit": release["commit"], "version": release.get("raw_version"),
            "status": release.get("status")}


def status_text(status: str) -> str:
    return f"[{STATUS_STYLES.get(status, 'white')}]{status}[/]"


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")
