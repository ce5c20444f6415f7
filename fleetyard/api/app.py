"""The ASGI application: routes, error handling and the engine's lifetime.

`create_app(settings)` opens the database in the lifespan, migrates the model
(`server_migrations`: its schema, then the catalogue) and builds the `Engine`;
`create_app(engine_factory)` takes a ready engine instead (tests share one seeded
database that way). `fleetyard serve` runs `app_from_env` in each Granian worker.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fleetyard.api import callers, config_routes, forwarded
from fleetyard.api.auth_routes import AuthRoutes
from fleetyard.api.device_routes import DeviceRoutes
from fleetyard.api.errors import CatchAll, fleetyard_error_handler, http_exception_handler
from fleetyard.api.odata_routes import DEFAULT_VERSIONS, MAX_BODY, ODataRoutes, Version
from fleetyard.auth.bootstrap import AuthSettings, bootstrap
from fleetyard.auth.principals import Credentials
from fleetyard.config import Config
from fleetyard.db import connect
from fleetyard.db.migrations import Migration, migrate, model_migrations
from fleetyard.device import DeviceSettings, DeviceSide
from fleetyard.device.backplane import Redis
from fleetyard.errors import FleetyardError
from fleetyard.model.schema import Model
from fleetyard.odata.engine import Engine
from fleetyard.web.routes import WebRoutes

log = logging.getLogger("fleetyard.api")

DEFAULT_MODEL = "fleetyard.model.balena:MODEL"
MODEL_VAR = "FLEETYARD_MODEL"  # how `fleetyard serve` tells its workers which model


@dataclass(frozen=True)
class AppSettings:
    database_url: str
    model: Model
    database_options: Mapping[str, Any] = field(default_factory=dict)  # passed to `connect`


# An async context manager per application lifetime: enter → a ready Engine, exit → closed.
EngineFactory = Callable[[], AbstractAsyncContextManager[Engine]]


def server_migrations(model: Model) -> list[Migration]:
    """What the server applies on start, and `fleetyard db migrate` too: the model's schema,
    then, for a model that holds it (balena's), the catalogue a fresh database holds."""
    from fleetyard import catalogue

    return model_migrations(model) + catalogue.migrations(model)


def server_hooks(model: Model) -> Mapping[str, Any]:
    """The business rules (`domain/`), for the model they are written for: balena's."""
    from fleetyard.auth.hooks import with_auth_hooks
    from fleetyard.device.hooks import with_device_hooks
    from fleetyard.domain import HOOKS
    from fleetyard.model.balena import MODEL

    # The device side's hooks (target-state cache, device history) and the accounts' rules
    # (organizations, memberships, keys) join the domain's.
    return with_auth_hooks(with_device_hooks(HOOKS)) if model is MODEL else {}


@asynccontextmanager
async def open_engine(settings: AppSettings) -> AsyncIterator[Engine]:
    db = await connect(settings.database_url, **settings.database_options)
    try:
        # Several workers may start together: migrations serialise themselves (db/migrations).
        await migrate(db, settings.model, server_migrations(settings.model))
        yield Engine(settings.model, db, hooks=server_hooks(settings.model))
    finally:
        await db.close()


def create_app(
    source: AppSettings | EngineFactory,
    *,
    caller: callers.CallerResolver | None = None,
    auth: AuthSettings | None = None,
    versions: Sequence[Version] = DEFAULT_VERSIONS,
    max_body: int = MAX_BODY,
    device: DeviceSettings | None = None,
    trusted_proxies: str | None = None,
) -> Starlette:
    """`caller` overrides who callers are; by default a model with accounts authenticates
    every request (`fleetyard.auth`, set up from `auth` or the environment on start) and
    any other model treats everyone as a superuser."""
    factory: EngineFactory
    if isinstance(source, AppSettings):
        settings = source

        def factory() -> AbstractAsyncContextManager[Engine]:
            return open_engine(settings)
    else:
        factory = source
    odata = ODataRoutes(versions, caller or callers.caller, max_body)
    # Behind reverse proxies: whose X-Forwarded-For names the client (api/forwarded.py).
    accounts = AuthRoutes(forwarded.networks(
        os.environ.get("FLEETYARD_TRUSTED_PROXIES") if trusted_proxies is None else trusted_proxies))
    devices = DeviceRoutes()  # the device side (`fleetyard.device`), set up with accounts
    web = WebRoutes()  # the dashboard (`fleetyard.web`), on the same accounts

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with factory() as engine:
            if caller is None and has_accounts(engine.model):
                state = await bootstrap(engine, auth or AuthSettings.from_env())
                authenticator = callers.Authenticator(Credentials(engine.db, state.signing_secret))
                odata.caller = authenticator
                accounts.bind(engine, authenticator, state)
                web.bind(engine, authenticator)
                side = DeviceSide(engine, device or DeviceSettings.from_env())
                devices.bind(side, authenticator)
                if isinstance(side.backplane, Redis):  # several processes: count logins together
                    accounts.share_throttle(side.backplane.client, side.settings.redis_prefix + "login:")
                app.state.devices = side
            elif odata.caller is callers.caller:
                log.warning("no authentication configured: every request has every right")
            odata.bind(engine)
            app.state.engine = engine
            if devices.side is None:
                yield
                return
            await devices.side.start()
            try:
                yield
            finally:
                await devices.side.stop()

    names = [v.name for v in versions]
    app = Starlette(
        routes=[Route("/ping", ping, methods=["GET"]), *accounts.routes(), *config_routes.routes(), *devices.routes(),
                *web.routes(), *odata.routes()],
        middleware=[Middleware(CatchAll)],
        exception_handlers={
            HTTPException: http_exception_handler(names),
            FleetyardError: fleetyard_error_handler,
        },
        lifespan=lifespan,
    )
    # `/v7` would otherwise redirect to `/v7/`, an OData URL of nothing: a plain 404 is clearer.
    app.router.redirect_slashes = False
    return app


def has_accounts(model: Model) -> bool:
    """Whether a model has the resources identity needs (balena's has)."""
    return all(model.get(name) is not None for name in ("actor", "user", "api_key", "organization"))


async def ping(request: Request) -> Response:
    return PlainTextResponse("OK")


# --- running under Granian ---------------------------------------------------------------


def import_model(path: str) -> Model:
    """The `Model` at 'package.module:attr' (a Model, or a function returning one)."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"a model is given as MODULE:ATTR, not {path!r}")
    value = getattr(importlib.import_module(module_name), attr, None)
    if callable(value) and not isinstance(value, Model):
        value = value()
    if not isinstance(value, Model):
        raise ValueError(f"{path!r} is not a fleetyard Model")
    return value


def app_from_env() -> Starlette:
    """The app of one server worker: FLEETYARD_DATABASE_URL and FLEETYARD_MODEL (which
    `fleetyard serve` sets) say what to serve."""
    fleetyard_log = logging.getLogger("fleetyard")
    if not fleetyard_log.handlers:  # Granian configures only its own loggers
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(levelname)s] %(name)s: %(message)s"))
        fleetyard_log.addHandler(handler)
        fleetyard_log.setLevel(logging.INFO)
    config = Config.from_env()
    model = import_model(os.environ.get(MODEL_VAR) or DEFAULT_MODEL)
    return create_app(AppSettings(config.database_url, model))
