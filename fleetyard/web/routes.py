"""The dashboard: pages under `/dashboard`, served by the API's own process.

Part of the web stage, beside the API routes in the HTTP layer (`api/app.py` binds it when
the app starts). Pages are Jinja2 templates; htmx (a pinned file in `static/`) swaps the
parts that change — the device list polls every two seconds, buttons post and get back
the part they changed. Every read and write goes through the engine with the session's
`Caller` (`reads.py`, `actions.py`); the login form goes through `/login_` itself
(`internal.py`), so its accounts and rate limits are the API's.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fleetyard.api.callers import Authenticator
from fleetyard.errors import FleetyardError
from fleetyard.odata.engine import Engine
from fleetyard.web import forms, internal, session
from fleetyard.web.actions import ActionError, Actions
from fleetyard.web.keys import KeyPages
from fleetyard.web.logs import log_stream
from fleetyard.web.reads import (
    DEVICE_VALUES,
    FLEET_VALUES,
    SORTS,
    STATUSES,
    DeviceQuery,
    Reader,
)
from fleetyard.web.session import Session
from fleetyard.web.templating import STATIC, templates

log = logging.getLogger("fleetyard.web")

PREFIX = "/dashboard"
POLL_SECONDS = 2

Handler = Callable[..., Awaitable[Response]]


class WebRoutes:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.authenticator: Authenticator | None = None
        self.keys = KeyPages(self)

    def bind(self, engine: Engine, authenticator: Authenticator) -> None:
        self.engine = engine
        self.authenticator = authenticator

    def routes(self) -> list[BaseRoute]:
        page, act = self._page, self._action
        return [
            Route("/", self.root, methods=["GET"]),
            Route(PREFIX, self.root, methods=["GET"]),
            Mount(PREFIX, routes=[
                Route("/", page(self.fleets), methods=["GET"]),
                Route("/login", self.login_form, methods=["GET"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/fleets/{fleet:int}", page(self.fleet), methods=["GET"]),
                Route("/fleets/{fleet:int}/devices", page(self.fleet_devices), methods=["GET"]),
                Route("/fleets/{fleet:int}/pin", act(self.pin_fleet), methods=["POST"]),
                Route("/fleets/{fleet:int}/track-latest", act(self.track_latest), methods=["POST"]),
                Route("/fleets/{fleet:int}/{kind:str}", act(self.add_fleet_value), methods=["POST"]),
                Route("/fleets/{fleet:int}/{kind:str}/{row:int}/delete", act(self.delete_fleet_value),
                      methods=["POST"]),
                Route("/devices/{uuid:str}", page(self.device), methods=["GET"]),
                Route("/devices/{uuid:str}/summary", page(self.device_summary), methods=["GET"]),
                Route("/devices/{uuid:str}/logs", page(self.device_logs), methods=["GET"]),
                Route("/devices/{uuid:str}/pin", act(self.pin_device), methods=["POST"]),
                Route("/devices/{uuid:str}/{kind:str}", act(self.add_device_value), methods=["POST"]),
                Route("/devices/{uuid:str}/{kind:str}/{row:int}/delete", act(self.delete_device_value),
                      methods=["POST"]),
                Route("/keys", page(self.keys.list), methods=["GET"]),
                Route("/keys", act(self.keys.create), methods=["POST"]),
                Route("/keys/{key:int}/revoke", act(self.keys.revoke), methods=["POST"]),
                Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
            ]),
        ]

    # --- sessions ---------------------------------------------------------------------------

    async def _session(self, request: Request) -> Session | None:
        if self.authenticator is None:
            return None
        return await session.load(request, self.authenticator)

    def _page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A page or a part of one: for a signed-in user, else to the login form."""

        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            if self.engine is None or self.authenticator is None:
                return _text("The dashboard needs a server with accounts.", 404)
            s = await self._session(request)
            if s is None:
                return _to_login(request)
            try:
                return await handler(request, s)
            except NotFoundPage:
                return self.render(request, s, "not_found.html", {}, status=404)

        return endpoint

    def _action(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A button: a page's rules, and the form's CSRF token."""

        async def checked(request: Request, s: Session) -> Response:
            if not await session.csrf_ok(request, s):
                return _text("The form has expired: reload the page.", 403)
            return await handler(request, s)

        functools.update_wrapper(checked, handler)
        return self._page(checked)

    def render(self, request: Request, s: Session | None, name: str, context: dict[str, Any], *,
               status: int = 200, headers: dict[str, str] | None = None) -> Response:
        context = {"session": s, "prefix": PREFIX, "poll": POLL_SECONDS, **context}
        return templates.TemplateResponse(request, name, context, status_code=status, headers=headers)

    def reader(self, s: Session) -> Reader:
        assert self.engine is not None
        return Reader(self.engine, s.caller)

    def actions(self, s: Session) -> Actions:
        assert self.engine is not None
        return Actions(self.engine, s.caller)

    # --- log in and out ---------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        return RedirectResponse(PREFIX + "/", 303)

    async def login_form(self, request: Request) -> Response:
        if await self._session(request) is not None:
            return RedirectResponse(PREFIX + "/", 303)
        return self.render(request, None, "login.html", {"next": _next(request)})

    async def login(self, request: Request) -> Response:
        """The form's fields go to `/login_` as they are: its answer decides."""
        form = await forms.fields(request)
        username, password = form.get("username", ""), form.get("password", "")
        answer = await internal.call(request.app, request, "POST", "/login_",
                                     json={"username": username, "password": password})
        if answer.status == 200:
            response = RedirectResponse(_next(request), 303)
            session.start(response, request, answer.text().strip())
            return response
        if answer.status == 401:
            error = "Wrong username or password."
        elif answer.status == 429:
            wait = answer.headers.get("retry-after")
            error = "Too many attempts: try again later" + (f" (in {_minutes(wait)})." if wait else ".")
        else:
            error = answer.message() or f"The login failed ({answer.status})."
        return self.render(request, None, "login.html", {"error": error, "username": username,
                                                        "next": _next(request)}, status=answer.status)

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse(PREFIX + "/login", 303)
        session.end(response)
        return response

    # --- fleets -----------------------------------------------------------------------------

    async def fleets(self, request: Request, s: Session) -> Response:
        rows = await self.reader(s).fleets(s.actor)
        name = "_fleets.html" if request.query_params.get("part") == "fleets" else "fleets.html"
        return self.render(request, s, name, {"fleets": rows, "statuses": STATUSES})

    async def _fleet(self, s: Session, fleet: int) -> dict:
        row = await self.reader(s).fleet(fleet)
        if row is None:
            raise NotFoundPage()
        return row

    async def fleet(self, request: Request, s: Session) -> Response:
        reader = self.reader(s)
        f = await self._fleet(s, request.path_params["fleet"])
        query = DeviceQuery.from_params(request.query_params)
        context = {
            "fleet": f, "query": query, "sorts": SORTS, "statuses": STATUSES,
            "devices": await reader.devices(f["id"], query), "counts": await reader.fleet_counts(f["id"]),
            "releases": await reader.releases(f["id"]),
            "values": {kind: await reader.values(spec, f["id"]) for kind, spec in FLEET_VALUES.items()},
        }
        return self.render(request, s, "fleet.html", context)

    async def fleet_devices(self, request: Request, s: Session) -> Response:
        reader = self.reader(s)
        f = await self._fleet(s, request.path_params["fleet"])
        query = DeviceQuery.from_params(request.query_params)
        return self.render(request, s, "_devices.html", {
            "fleet": f, "query": query, "devices": await reader.devices(f["id"], query),
            "counts": await reader.fleet_counts(f["id"]), "statuses": STATUSES})

    async def _releases_part(self, request: Request, s: Session, fleet: int, error: str | None = None) -> Response:
        f = await self._fleet(s, fleet)
        releases = await self.reader(s).releases(fleet)
        # The device list refreshes at once: its targets moved with the fleet's.
        return self.render(request, s, "_releases.html", {"fleet": f, "releases": releases, "error": error},
                           headers={"HX-Trigger": "fleet-changed"})

    async def pin_fleet(self, request: Request, s: Session) -> Response:
        fleet = request.path_params["fleet"]
        await self._fleet(s, fleet)
        form = await forms.fields(request)
        try:
            await self.actions(s).pin_fleet(fleet, _int(form.get("release"), "release"))
        except FleetyardError as e:
            return await self._releases_part(request, s, fleet, e.message)
        return await self._releases_part(request, s, fleet)

    async def track_latest(self, request: Request, s: Session) -> Response:
        fleet = request.path_params["fleet"]
        await self._fleet(s, fleet)
        try:
            await self.actions(s).track_latest(fleet)
        except FleetyardError as e:
            return await self._releases_part(request, s, fleet, e.message)
        return await self._releases_part(request, s, fleet)

    async def _values_part(self, request: Request, s: Session, owner: str, owner_id: int, owner_key: str | int,
                           kind: str, spec: tuple[str, str, str], error: str | None = None) -> Response:
        rows = await self.reader(s).values(spec, owner_id)
        return self.render(request, s, "_values.html", {"owner": owner, "owner_key": owner_key, "kind": kind,
                                                        "rows": rows, "error": error})

    async def add_fleet_value(self, request: Request, s: Session) -> Response:
        fleet, kind = request.path_params["fleet"], request.path_params["kind"]
        spec = _kind(FLEET_VALUES, kind)
        await self._fleet(s, fleet)
        error = await self._add_value(request, s, spec, fleet)
        return await self._values_part(request, s, "fleets", fleet, fleet, kind, spec, error)

    async def delete_fleet_value(self, request: Request, s: Session) -> Response:
        fleet, kind = request.path_params["fleet"], request.path_params["kind"]
        spec = _kind(FLEET_VALUES, kind)
        await self._fleet(s, fleet)
        error = await self._delete_value(s, spec, fleet, request.path_params["row"])
        return await self._values_part(request, s, "fleets", fleet, fleet, kind, spec, error)

    async def _add_value(self, request: Request, s: Session, spec: tuple[str, str, str], owner: int) -> str | None:
        form = await forms.fields(request)
        try:
            await self.actions(s).add_value(spec, owner, str(form.get("key") or ""), str(form.get("value") or ""))
        except FleetyardError as e:
            return e.message
        return None

    async def _delete_value(self, s: Session, spec: tuple[str, str, str], owner: int, row: int) -> str | None:
        try:
            await self.actions(s).delete_value(spec, owner, row)
        except FleetyardError as e:
            return e.message
        return None

    # --- devices ----------------------------------------------------------------------------

    async def _device(self, s: Session, uuid: str) -> dict:
        row = await self.reader(s).device(uuid)
        if row is None:
            raise NotFoundPage()
        return row

    async def _device_context(self, s: Session, uuid: str) -> dict[str, Any]:
        reader = self.reader(s)
        d = await self._device(s, uuid)
        fleet = d["fleet"]
        return {"device": d, "history": await reader.history(d["id"]),
                "releases": await reader.successful_releases(fleet["id"]) if fleet else []}

    async def device(self, request: Request, s: Session) -> Response:
        context = await self._device_context(s, request.path_params["uuid"])
        d = context["device"]
        context["values"] = {kind: await self.reader(s).values(spec, d["id"]) for kind, spec in DEVICE_VALUES.items()}
        return self.render(request, s, "device.html", context)

    async def device_summary(self, request: Request, s: Session) -> Response:
        context = await self._device_context(s, request.path_params["uuid"])
        return self.render(request, s, "_device_summary.html", context)

    async def pin_device(self, request: Request, s: Session) -> Response:
        uuid = request.path_params["uuid"]
        d = await self._device(s, uuid)
        form = await forms.fields(request)
        raw = form.get("release")
        error = None
        try:
            await self.actions(s).pin_device(d["id"], _int(raw, "release") if raw else None)
        except FleetyardError as e:
            error = e.message
        context = await self._device_context(s, uuid)
        return self.render(request, s, "_device_summary.html", {**context, "error": error})

    async def add_device_value(self, request: Request, s: Session) -> Response:
        uuid, kind = request.path_params["uuid"], request.path_params["kind"]
        spec = _kind(DEVICE_VALUES, kind)
        d = await self._device(s, uuid)
        error = await self._add_value(request, s, spec, d["id"])
        return await self._values_part(request, s, "devices", d["id"], uuid, kind, spec, error)

    async def delete_device_value(self, request: Request, s: Session) -> Response:
        uuid, kind = request.path_params["uuid"], request.path_params["kind"]
        spec = _kind(DEVICE_VALUES, kind)
        d = await self._device(s, uuid)
        error = await self._delete_value(s, spec, d["id"], request.path_params["row"])
        return await self._values_part(request, s, "devices", d["id"], uuid, kind, spec, error)

    async def device_logs(self, request: Request, s: Session) -> Response:
        d = await self._device(s, request.path_params["uuid"])
        return log_stream(request, s, d["uuid"])


class NotFoundPage(Exception):
    """What a user may not see is not there: the page answers 404."""


def _kind(kinds: dict[str, tuple[str, str, str]], kind: str) -> tuple[str, str, str]:
    if kind not in kinds:
        raise NotFoundPage()
    return kinds[kind]


def _int(value: object, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ActionError(f"{name} must be a number") from None


def _text(message: str, status: int) -> Response:
    return Response(message, status, media_type="text/plain; charset=utf-8")


def _next(request: Request) -> str:
    """Where to go after logging in: a dashboard path only (never another site)."""
    target = request.query_params.get("next") or ""
    return target if target.startswith(PREFIX + "/") and not target.startswith("//") else PREFIX + "/"


def _to_login(request: Request) -> Response:
    if request.headers.get("hx-request"):
        # A part of a page (a poll, a button): htmx sends the whole tab to the login form,
        # to come back to the page it was showing.
        shown = urlsplit(request.headers.get("hx-current-url", ""))
        back = shown.path + (f"?{shown.query}" if shown.query else "") if shown.path.startswith(PREFIX) else ""
        return Response(status_code=200, headers={"HX-Redirect": PREFIX + "/login?next=" + quote(back or PREFIX + "/")})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(PREFIX + "/login?next=" + quote(here), 303)


def _minutes(seconds: str) -> str:
    try:
        n = max(1, round(int(seconds) / 60))
    except ValueError:
        return f"{seconds} s"
    return f"{n} minute{'s' if n != 1 else ''}"
