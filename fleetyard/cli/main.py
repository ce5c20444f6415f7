"""The `fleetyard` command: serve, db migrate, explain, user add/key, org add.

The outermost layer beside the HTTP app: it reads settings (`fleetyard.config`), opens the
database (`fleetyard.db`) and hands work to the stages. Heavy imports happen inside the
commands, so `fleetyard --help` starts fast.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from typing import TYPE_CHECKING

import click

from fleetyard.config import DEFAULT_DATABASE_URL, DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from fleetyard.model.schema import Model

_DATABASE = click.option(
    "--database",
    "database_url",
    envvar="FLEETYARD_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="sqlite:///path, sqlite:///:memory: or postgresql://user@host/db "
    "(env FLEETYARD_DATABASE_URL).",
)
_MODEL = click.option(
    "--model",
    "model_path",
    metavar="MODULE:ATTR",
    help="The model to use, as a dotted path to a Model (or a function returning one).",
)


def load_model(path: str | None) -> Model:
    """The `Model` at 'package.module:attr'."""
    from fleetyard.model.schema import Model

    if not path:
        raise click.UsageError(
            "no model given: pass --model MODULE:ATTR (the balena model is not built in yet)"
        )
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise click.UsageError(f"--model takes MODULE:ATTR, not {path!r}")
    if os.getcwd() not in sys.path:  # as uvicorn does: a project's own modules import
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise click.UsageError(f"cannot import {module_name!r}: {e}") from e
    value = getattr(module, attr, None)
    if callable(value) and not isinstance(value, Model):
        value = value()
    if not isinstance(value, Model):
        raise click.UsageError(f"{path!r} is not a fleetyard Model")
    return value


@click.group()
@click.version_option(package_name="fleetyard")
def cli() -> None:
    """fleetyard: a self-hostable server for the balenaCloud API."""


@cli.command()
@click.option("--host", envvar="FLEETYARD_HOST", default=DEFAULT_HOST, show_default=True)
@click.option("--port", envvar="FLEETYARD_PORT", default=DEFAULT_PORT, show_default=True, type=int)
@_DATABASE
@_MODEL
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Server processes (each with its own database connections).")
def serve(host: str, port: int, database_url: str, model_path: str | None, workers: int) -> None:
    """Run the API server (Granian, ASGI). The model defaults to balena's."""
    import importlib.util

    from granian import Granian
    from granian.constants import Interfaces

    from fleetyard.api.app import DEFAULT_MODEL, MODEL_VAR, has_accounts, server_hooks, server_migrations
    from fleetyard.auth.bootstrap import AuthSettings, BootstrapError, bootstrap
    from fleetyard.db import DatabaseError, connect
    from fleetyard.db.migrations import migrate
    from fleetyard.odata.engine import Engine

    if model_path is None:
        try:
            missing = importlib.util.find_spec(DEFAULT_MODEL.partition(":")[0]) is None
        except ModuleNotFoundError:  # its parent package is missing too
            missing = True
        if missing:
            raise click.UsageError(
                f"the balena model ({DEFAULT_MODEL}) is not available: pass --model MODULE:ATTR"
            )
        model_path = DEFAULT_MODEL
    model = load_model(model_path)
    if has_accounts(model):  # settings read from the environment: a wrong one stops the start here
        from fleetyard.api import forwarded
        from fleetyard.device import DeviceSettings

        try:
            DeviceSettings.from_env()
            forwarded.networks(os.environ.get("FLEETYARD_TRUSTED_PROXIES"))
        except ValueError as e:
            raise click.ClickException(str(e)) from e

    async def prepare() -> None:
        # Once here, before any worker starts: a wrong URL or a failing migration is a clear
        # error now rather than a worker dying in its lifespan. Workers migrate too (no-op).
        database = await connect(database_url)
        try:
            await migrate(database, model, server_migrations(model))
            if has_accounts(model):  # the admin's generated password is printed here, once
                engine = Engine(model, database, hooks=server_hooks(model))
                await bootstrap(engine, AuthSettings.from_env(), announce=click.echo)
        finally:
            await database.close()

    try:
        asyncio.run(prepare())
    except (DatabaseError, BootstrapError) as e:
        raise click.ClickException(str(e)) from e
    # Workers are new processes: they build the app from the environment (app_from_env).
    os.environ[MODEL_VAR] = model_path
    os.environ["FLEETYARD_DATABASE_URL"] = database_url
    Granian(
        "fleetyard.api.app:app_from_env",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
    ).serve()


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("migrate")
@_DATABASE
@_MODEL
def db_migrate(database_url: str, model_path: str | None) -> None:
    """Create or update the schema of a model's database, and the catalogue a fresh
    database holds (as `serve` does on start)."""
    from rich.console import Console

    from fleetyard.api.app import server_migrations
    from fleetyard.db import DatabaseError, connect
    from fleetyard.db.migrations import migrate

    model = load_model(model_path)

    async def run() -> list[int]:
        database = await connect(database_url)
        try:
            return await migrate(database, model, server_migrations(model))
        finally:
            await database.close()

    try:
        applied = asyncio.run(run())
    except DatabaseError as e:
        raise click.ClickException(str(e)) from e
    console = Console(highlight=False, soft_wrap=True)
    if applied:
        versions = ", ".join(str(v) for v in applied)
        console.print(f"[green]applied[/green] migration(s) {versions} to {database_url}")
    else:
        console.print(f"{database_url} is up to date")


@cli.command()
@click.argument("url")
@_MODEL
@click.option("--method", default="GET", show_default=True, help="The HTTP method of the request.")
def explain(url: str, model_path: str | None, method: str) -> None:
    """Print the parse tree, the plan and the SQL of both dialects for an OData URL
    (the path after the version prefix, e.g. '/pilot?$filter=age gt 30')."""
    from fleetyard.errors import FleetyardError
    from fleetyard.odata.explain import explain as explain_url

    model = load_model(model_path)
    try:
        click.echo(explain_url(url, model, method=method.upper()))
    except FleetyardError as e:
        raise click.ClickException(f"{type(e).__name__}: {e}") from e


# --- accounts (fleetyard.auth) ------------------------------------------------------------


def _with_balena_engine(database_url: str, work):
    """Run `work(engine)` on the balena model's engine over a migrated database, as the
    server builds it."""
    from fleetyard.api.app import AppSettings, open_engine
    from fleetyard.db import DatabaseError
    from fleetyard.errors import FleetyardError
    from fleetyard.model.balena import MODEL as BALENA

    async def run():
        async with open_engine(AppSettings(database_url, BALENA)) as engine:
            return await work(engine)

    try:
        return asyncio.run(run())
    except FleetyardError as e:
        raise click.ClickException(e.message) from e
    except DatabaseError as e:
        raise click.ClickException(str(e)) from e


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("username")
@click.option("--email", help="The user's e-mail address (they may log in with it).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
@click.option("--superuser", is_flag=True, help="Every right on every resource.")
@_DATABASE
def user_add(username: str, email: str | None, password: str, superuser: bool, database_url: str) -> None:
    """Create a user with their personal organization (whose handle is the username)."""
    from fleetyard.auth.users import create_user

    async def work(engine):
        return await create_user(engine, username, password, email=email, superuser=superuser)

    created = _with_balena_engine(database_url, work)
    name = username.strip().lower()
    click.echo(f"created user {name} (id {created.id}) with the organization {name}")


@user.command("key")
@click.argument("username")
@click.option("--name", default="fleetyard-cli", show_default=True, help="The key's name.")
@_DATABASE
def user_key(username: str, name: str, database_url: str) -> None:
    """Print a new API key of the user (shown once: only its hash is kept)."""
    from fleetyard.auth import api_keys
    from fleetyard.auth.users import user_actor

    async def work(engine):
        return await api_keys.create(engine, await user_actor(engine, username), name=name)

    click.echo(_with_balena_engine(database_url, work))


@cli.group()
def org() -> None:
    """Organizations."""


@org.command("add")
@click.argument("handle")
@click.option("--owner", required=True, metavar="USERNAME", help="Its first administrator.")
@click.option("--name", help="Its display name (the handle when not given).")
@_DATABASE
def org_add(handle: str, owner: str, name: str | None, database_url: str) -> None:
    """Create an organization administered by an existing user."""
    from fleetyard.auth.users import create_organization

    async def work(engine):
        return await create_organization(engine, handle, owner, name=name)

    org_id = _with_balena_engine(database_url, work)
    click.echo(f"created organization {handle} (id {org_id}) administered by {owner}")


# The operator's commands (login, fleets, devices, releases, pin, status): `cli/operator.py`.
from fleetyard.cli import operator as _operator

_operator.register(cli)


@cli.command()
@click.option("--devices", default=10, show_default=True, type=click.IntRange(min=1), help="How many devices.")
@click.option("--fleet", "fleet_slug", required=True, metavar="SLUG", help="The fleet they join: org/fleet.")
@click.option("--url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", show_default=True, help="The server.")
@click.option("--token", envvar="FLEETYARD_TOKEN", required=True, help="A user's token or API key (to find the fleet).")
@click.option("--provisioning-key", help="The fleet's provisioning key (a new one is made when not given).")
@click.option("--device-type", default="raspberrypi4-64", show_default=True)
@click.option("--duration", default=60.0, show_default=True, help="Seconds to run.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between a device's state polls.")
def simulate(devices: int, fleet_slug: str, url: str, token: str, provisioning_key: str | None, device_type: str,
             duration: float, interval: float) -> None:
    """Run simulated devices that register, poll their state, report and log as a supervisor does."""
    import asyncio

    try:
        import httpx
    except ImportError:
        raise click.ClickException("simulate needs httpx: pip install 'fleetyard[test]'") from None

    from fleetyard.device import simulate as sim

    async def main() -> sim.Stats:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            fleet = await sim.fleet_of(http, fleet_slug, token)
            key = provisioning_key or await sim.provisioning_key(http, fleet["id"], token)
            return await sim.simulate(http, devices=devices, fleet=fleet, key=key, device_type=device_type,
                                      duration=duration, interval=interval)

    stats = asyncio.run(main())
    click.echo(f"{stats.registered} devices registered; {stats.polls} state polls ({stats.changed} with a new "
               f"target, {stats.unchanged} unchanged: 304), {stats.reports} reports, {stats.logs} log batches, "
               f"{len(stats.errors)} errors")
    for error in sorted(set(stats.errors)):
        click.echo(f"  error: {error}", err=True)


if __name__ == "__main__":
    cli()
