"""Errors become HTTP answers here and nowhere else.

A typed error (`fleetyard.errors`) keeps its status and message: the body is the message as
a JSON string, the form the balena clients match on (spec/odata.md §11), and its stable code
goes in the `X-Fleetyard-Error` header and the log line (spec/decisions.md "Status codes").
Anything else is a 500 with a generic JSON string; its traceback goes to the log, never to
the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetyard.db.base import DatabaseError
from fleetyard.errors import FleetyardError, ODataSyntaxError

log = logging.getLogger("fleetyard.api")

JSON = "application/json; charset=utf-8"
INTERNAL = "Internal server error"

# --- errors of the HTTP layer itself -----------------------------------------------------


class BodyTooLarge(FleetyardError):
    """The reference's body parser stops at 512 kB (spec/model.md §0.3)."""

    status = 413
    code = "request.too_large"


class InvalidJSON(FleetyardError):
    """A body that is not JSON: 400 saying where it broke (spec/decisions.md "Values")."""

    status = 400
    code = "request.invalid_json"


class NotFound(FleetyardError):
    status = 404
    code = "http.not_found"


class MethodNotAllowed(FleetyardError):
    status = 405
    code = "http.method_not_allowed"

    def __init__(self, message: str, allow: str | None = None):
        super().__init__(message)
        self.headers = {"Allow": allow} if allow else None


# Statement timeouts, lock waits and serialisation failures: the request may succeed if
# retried, so they are a 503 rather than a bug (PostgreSQL SQLSTATEs, SQLite result names).
_BUSY = ("57014", "55P03", "40001", "40P01", "SQLITE_BUSY", "SQLITE_LOCKED")


# --- the one mapping ---------------------------------------------------------------------


def answer(exc: BaseException, scope: Scope) -> Response:
    """The response for an exception raised while serving `scope`, logged once."""
    if isinstance(exc, FleetyardError):
        body = exc.body()
        detail = exc.detail if isinstance(exc, ODataSyntaxError) else exc.message
        log.info("%s %s -> %d %s: %s", scope.get("method"), _target(scope), exc.status, exc.code, detail)
        return _response(exc.status, exc.code, body, _extra_headers(exc), plain=getattr(exc, "plain_text", False))
    if isinstance(exc, DatabaseError) and (exc.sqlstate or "").startswith(_BUSY):
        log.warning("%s %s -> 503 db.busy: %s", scope.get("method"), _target(scope), exc.message)
        return _response(503, "db.busy", "The database is busy, try again")
    code = "db.error" if isinstance(exc, DatabaseError) else "internal"
    log.error("%s %s -> 500 %s", scope.get("method"), _target(scope), code, exc_info=exc)
    return _response(500, code, INTERNAL)


def _response(status: int, code: str, body: object, extra: dict[str, str] | None = None,
              *, plain: bool = False) -> Response:
    headers = {"Cache-Control": "no-cache", "X-Fleetyard-Error": code, **(extra or {})}
    if body is None:
        return Response(b"", status, headers)
    if plain:  # a few device answers are bare text the supervisor matches (device-api.md §1)
        return Response(str(body).encode(), status, headers, media_type="text/html; charset=utf-8")
    return Response(orjson.dumps(body), status, headers, media_type=JSON)


def _extra_headers(exc: FleetyardError) -> dict[str, str] | None:
    headers = getattr(exc, "headers", None)  # only some errors carry headers (405: Allow)
    return headers if isinstance(headers, dict) else None


# Credentials in a query string (device-api.md §0.1) never reach a log line.
_SECRETS = re.compile(rb"(?i)((?:^|&)(?:apikey|auth_token|_token)=)[^&]*")


def _target(scope: Scope) -> str:
    """The request target as the client sent it, for the log (bounded: URLs can be long)."""
    path = scope.get("raw_path") or scope.get("path", "").encode()
    query = _SECRETS.sub(rb"\1[redacted]", scope.get("query_string") or b"")
    target = (path + b"?" + query if query else path).decode("utf-8", "replace")
    return target if len(target) <= 2000 else target[:2000] + "…"


# --- routing errors and the last line of defence -----------------------------------------

# `/resin` is the reference's unversioned model, which fleetyard does not serve (decisions.md).
_VERSION = re.compile(r"/(v\d+|resin)(?:/|$)")


def not_found_message(path: str, versions: Sequence[str]) -> str:
    served = ", ".join(f"/{v}/" for v in versions)
    m = _VERSION.match(path)
    if m:
        return f"API version '{m.group(1)}' is not served: the OData API is at {served}"
    return f"Not found: {path} (the OData API is at {served})"


def http_exception_handler(versions: Sequence[str]):
    """Starlette's routing raises HTTPException for 404 and 405; answer them like the rest."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            typed: FleetyardError = NotFound(not_found_message(request.scope["path"], versions))
        elif exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow")
            typed = MethodNotAllowed(f"Method {request.method} is not allowed on {request.scope['path']}", allow)
        else:
            typed = FleetyardError(exc.detail, status=exc.status_code, code=f"http.{exc.status_code}")
        return answer(typed, request.scope)

    return handle


async def fleetyard_error_handler(request: Request, exc: Exception) -> Response:
    """Typed errors raised by any route (the OData route catches its own, faster)."""
    return answer(exc, request.scope)


class CatchAll:
    """Outermost middleware: an exception no handler took becomes the generic 500 here,
    so Starlette's ServerErrorMiddleware (which re-raises into the server) never sees it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an error answer: let the server drop the connection
                raise
            await answer(exc, scope)(scope, receive, send)
