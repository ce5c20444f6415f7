"""The operator's commands: `fleetyard login`, `fleets`, `devices SLUG`, `releases SLUG`,
`pin SLUG RELEASE` and `status`, talking to a fleetyard server over HTTP.

Beside the server's own commands in `cli/main.py` (`register` adds these to its group).
They send the dashboard's OData requests (`fleetyard.web.reads`) to `/v7` with the token
that `fleetyard login` stored (`cli/remote.py`), so a terminal shows what the browser and
the API show that user. Listings print rich tables, or JSON with `--json`.
"""

from __future__ import annotations

import time

import click

from fleetyard.cli.remote import (
    DEFAULT_URL,
    JSON_OPTION,
    STATUS_STYLES,
    URL_VAR,
    Api,
    connect,
    console,
    echo_json,
    find_fleet,
    load_config,
    release_json,
    save_config,
    status_text,
    whoami,
)
from fleetyard.web import reads
from fleetyard.web.formatting import ago, release_label


@click.command()
@click.option("--url", envvar=URL_VAR, help=f"The server (default: the stored one, else {DEFAULT_URL}).")
@click.option("--username", "-u", help="Your username or e-mail (asked for when not given).")
@click.option("--password", "-p", help="Asked for, hidden, when not given.")
@click.option("--token", help="Store this token or API key instead of logging in with a password.")
def login(url: str | None, username: str | None, password: str | None, token: str | None) -> None:
    """Log in to a fleetyard server and store the token for the other commands."""
    url = (url or load_config().get("url") or DEFAULT_URL).rstrip("/")
    api = Api(url, None)
    if token is None:
        username = username or click.prompt("Username")
        password = password or click.prompt("Password", hide_input=True)
        status, body, headers = api.call("POST", "/login_", {"username": username, "password": password})
        if status == 401:
            raise click.ClickException("wrong username or password")
        if status == 429:
            wait = headers.get("Retry-After") or headers.get("retry-after")
            raise click.ClickException("too many attempts: try again later" + (f" (in {wait} s)" if wait else ""))
        if status != 200:
            raise click.ClickException(f"the login failed ({status}): {body.decode('utf-8', 'replace')}")
        token = body.decode().strip()
    api.token = token
    status, body, _ = api.call("GET", "/user/v1/whoami")
    if status != 200:
        raise click.ClickException("the server does not take this token as a user's")
    import json

    me = json.loads(body)
    path = save_config({"url": url, "token": token, "username": me.get("username")})
    click.echo(f"Logged in to {url} as {me.get('username')}; the token is in {path}")


@click.command()
@JSON_OPTION
def fleets(as_json: bool) -> None:
    """The fleets of your organizations: devices by status and the target release."""
    from rich.table import Table

    api = connect()
    rows = [reads.shape_fleet(r) for r in api.d(reads.fleets_url(whoami(api)["id"]))]
    if as_json:
        echo_json([{"id": f["id"], "slug": f["slug"], "name": f["app_name"], "devices": f["devices"],
                    "counts": f["counts"], "target": release_json(f["target"]),
                    "tracks_latest": f["should_track_latest_release"]} for f in rows])
        return
    table = Table("Fleet", "Name", "Devices", "By status", "Target release", title="Fleets")
    for f in rows:
        counts = ", ".join(f"{status_text(s)} {n}" for s, n in f["counts"].items() if n) or "none"
        target = (release_label(f["target"]) + (" (latest)" if f["should_track_latest_release"] else " (pinned)")
                  if f["target"] else "no release yet")
        table.add_row(f["slug"], f["app_name"], str(f["devices"]), counts, target)
    out = console()
    out.print(table) if rows else out.print("No fleets in your organizations.")


@click.command()
@click.argument("slug")
@click.option("--status", type=click.Choice(reads.STATUSES), help="Only devices with this status.")
@click.option("--filter", "text", default="", help="Only devices whose name contains this (or uuid starts with).")
@click.option("--sort", type=click.Choice(sorted(reads.SORTS)), default="name", show_default=True)
@click.option("--desc", is_flag=True, help="Sort in descending order.")
@JSON_OPTION
def devices(slug: str, status: str | None, text: str, sort: str, desc: bool, as_json: bool) -> None:
    """The devices of a fleet (SLUG: organization/fleet)."""
    from rich.table import Table

    api = connect()
    fleet = find_fleet(api, slug)
    query = reads.DeviceQuery(text=text, status=status or "", sort=sort, descending=desc)
    rows = [reads.shape_device(r) for r in api.d(reads.devices_url(fleet["id"], query))]
    if as_json:
        echo_json([{"id": d["id"], "uuid": d["uuid"], "name": d["device_name"], "status": d["overall_status"],
                    "progress": d["overall_progress"], "running": release_json(d["running"]),
                    "target": release_json(d["target"]), "pinned": d["pinned"] is not None,
                    "os_version": d["os_version"], "os_variant": d["os_variant"], "last_seen": d["last_seen"]}
                   for d in rows])
        return
    table = Table("Name", "UUID", "Status", "Running", "Target", "OS", "Last seen", title=f"Devices of {fleet['slug']}")
    for d in rows:
        target = release_label(d["target"]) + (" (pinned)" if d["pinned"] else "")
        os_label = " ".join(v for v in (d["os_version"], d["os_variant"]) if v) or "—"
        table.add_row(d["device_name"], d["uuid"][:7], status_text(d["overall_status"]), release_label(d["running"]),
                      target, os_label, ago(d["last_seen"]))
    out = console()
    out.print(table) if rows else out.print(f"No devices in {fleet['slug']}.")


@click.command()
@click.argument("slug")
@JSON_OPTION
def releases(slug: str, as_json: bool) -> None:
    """The releases of a fleet, newest first, with the fleet's target marked."""
    from rich.table import Table

    api = connect()
    fleet = find_fleet(api, slug)
    rows = api.d(reads.releases_url(fleet["id"]))
    target = fleet["target"]["id"] if fleet["target"] else None
    if as_json:
        echo_json([{**release_json(r), "created_at": r["created_at"], "running_on": r["is_running_on__device"],
                    "is_target": r["id"] == target} for r in rows])
        return
    table = Table("ID", "Version", "Commit", "Status", "Created", "Running on", "", title=f"Releases of {fleet['slug']}")
    for r in rows:
        table.add_row(str(r["id"]), r["raw_version"], r["commit"][:7], r["status"], ago(r["created_at"]),
                      str(r["is_running_on__device"]), "[bold]target[/]" if r["id"] == target else "")
    out = console()
    out.print(table) if rows else out.print(f"No releases in {fleet['slug']}.")


def _pick_release(rows: list[dict], wanted: str) -> dict:
    """A release by id, version or commit (a prefix of at least 4 characters)."""
    found = [r for r in rows if str(r["id"]) == wanted] or \
        [r for r in rows if wanted in (r["raw_version"], r["semver"])] or \
        ([r for r in rows if r["commit"].startswith(wanted.lower())] if len(wanted) >= 4 else [])
    if not found:
        raise click.ClickException(f"no release {wanted!r} in this fleet (see `fleetyard releases`)")
    if len(found) > 1:
        names = ", ".join(f"{r['id']} {release_label(r)}" for r in found)
        raise click.ClickException(f"{wanted!r} names several releases: {names}")
    return found[0]


@click.command()
@click.argument("slug")
@click.argument("release")
@click.option("--wait", is_flag=True, help="Then show the devices reaching the target, until all run it.")
@click.option("--timeout", default=600, show_default=True, help="Seconds --wait waits at most.")
def pin(slug: str, release: str, wait: bool, timeout: int) -> None:
    """Pin a fleet to RELEASE (an id, a version or a commit), or `latest` to track the
    latest release again."""
    api = connect()
    fleet = find_fleet(api, slug)
    if release == "latest":
        api.ok("PATCH", f"/v7/application({fleet['id']})", {"should_track_latest_release": True})
    else:
        chosen = _pick_release(api.d(reads.releases_url(fleet["id"])), release)
        if chosen["status"] != "success":
            raise click.ClickException(f"release {release_label(chosen)} did not succeed ({chosen['status']})")
        api.ok("PATCH", f"/v7/application({fleet['id']})",
               {"should_be_running__release": chosen["id"], "should_track_latest_release": False})
    fleet = find_fleet(api, slug)
    how = "tracking the latest release" if fleet["should_track_latest_release"] else "pinned"
    console().print(f"{fleet['slug']} targets [bold]{release_label(fleet['target'])}[/] ({how})")
    if wait:
        _wait_for_devices(api, fleet, timeout)


def _wait_for_devices(api: Api, fleet: dict, timeout: int) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    target = fleet["target"]["id"] if fleet["target"] else None
    deadline = time.monotonic() + timeout
    with Progress(TextColumn("devices on the target"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console()) as progress:
        task = progress.add_task("devices", total=None)
        while True:
            rows = [reads.shape_device(r) for r in api.d(reads.devices_url(fleet["id"], reads.DeviceQuery()))]
            mine = [d for d in rows if d["pinned"] is None]  # devices pinned elsewhere follow their own pin
            done = sum(1 for d in mine if d["running"] and d["running"]["id"] == target)
            progress.update(task, total=len(mine), completed=done)
            if done == len(mine):
                return
            if time.monotonic() > deadline:
                raise click.ClickException(f"{len(mine) - done} device(s) did not reach the target in {timeout} s")
            time.sleep(1)


@click.command()
@JSON_OPTION
def status(as_json: bool) -> None:
    """Your devices by status, over all the fleets of your organizations."""
    from rich.progress_bar import ProgressBar
    from rich.table import Column, Table

    api = connect()
    rows = [reads.shape_fleet(r) for r in api.d(reads.fleets_url(whoami(api)["id"]))]
    totals = {s: sum(f["counts"].get(s, 0) for f in rows) for s in rows[0]["counts"]} if rows else \
        reads.counts([])
    total = sum(totals.values())
    if as_json:
        echo_json({"devices": total, "counts": totals,
                   "fleets": [{"slug": f["slug"], "devices": f["devices"], "counts": f["counts"]} for f in rows]})
        return
    table = Table("Status", "Devices", "Share", title=f"{total} device(s) in {len(rows)} fleet(s)")
    for s, n in totals.items():
        table.add_row(status_text(s), str(n), ProgressBar(total=max(total, 1), completed=n, width=30,
                                                           complete_style=STATUS_STYLES.get(s, "white")))
    out = console()
    out.print(table)
    if rows:
        by_fleet = Table(Column("Fleet", no_wrap=True), *[status_text(s) for s in totals], title="By fleet")
        for f in rows:
            by_fleet.add_row(f["slug"], *[str(f["counts"].get(s, 0)) for s in totals])
        out.print(by_fleet)


def register(group: click.Group) -> None:
    for command in (login, fleets, devices, releases, pin, status):
        group.add_command(command)
