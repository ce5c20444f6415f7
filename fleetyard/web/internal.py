"""Requests the dashboard makes to its own API, in process: the same routes, guards and
rate limits a client meets, without a network hop.

Part of the web stage. The login form posts to `/login_` this way (with the browser's
address, so the login limiter counts the same attempts), and the log panel reads
`/device/v2/<uuid>/logs?stream=1` with the session's token. The sub-request is a plain
ASGI call of the application: everything between the server and the route runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message

# Headers of the browser's request that a sub-request keeps: who is asking, from where.
FORWARDED = (b"user-agent", b"x-forwarded-for", b"x-real-ip", b"forwarded")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def message(self) -> str:
        """What the API said, for a person: a JSON string's text, else the body."""
        text = self.text().strip()
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return str(value.get("message") or value.get("error") or text)
        return text


def _scope(request: Request, method: str, path: str, query: str, headers: Iterable[tuple[bytes, bytes]]) -> dict:
    kept = [(k, v) for k, v in request.scope["headers"] if k in FORWARDED]
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": request.url.scheme, "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": kept + list(headers),
        "client": request.scope.get("client"), "server": request.scope.get("server"),
    }
    if "state" in request.scope:
        scope["state"] = dict(request.scope["state"])
    return scope


def _headers(token: str | None, content_type: str | None, length: int) -> list[tuple[bytes, bytes]]:
    out = [(b"content-length", str(length).encode())]
    if token:
        out.append((b"authorization", b"Bearer " + token.encode()))
    if content_type:
        out.append((b"content-type", content_type.encode()))
    return out


async def call(app: ASGIApp, request: Request, method: str, path: str, *, query: str = "",
               json: object = None, token: str | None = None) -> Answer:
    """One request to the app; its whole answer."""
    body = orjson.dumps(json) if json is not None else b""
    scope = _scope(request, method, path, query,
                   _headers(token, "application/json" if json is not None else None, len(body)))
    sent = False
    status, headers, chunks = 500, {}, []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect: the call ends when the app answers
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Answer(status, headers, b"".join(chunks))


@dataclass
class Stream:
    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


@contextlib.asynccontextmanager
async def stream(app: ASGIApp, request: Request, path: str, *, query: str = "",
                 token: str | None = None) -> AsyncIterator[Stream]:
    """A GET whose body arrives piece by piece (a log stream); leaving the block tells the
    app its client went away, as a closed connection would."""
    scope = _scope(request, "GET", path, query, _headers(token, None, 0))
    gone = asyncio.Event()
    started: asyncio.Future[tuple[int, dict[str, str]]] = asyncio.get_running_loop().create_future()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=256)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and not started.done():
            started.set_result((message["status"], {k.decode("latin-1").lower(): v.decode("latin-1")
                                                    for k, v in message.get("headers", [])}))
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await queue.put(message["body"])
            if not message.get("more_body", False):
                await queue.put(None)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            if not started.done():
                started.set_result((500, {}))
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    task = asyncio.create_task(run())

    async def chunks() -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not None:
            yield chunk

    try:
        status, headers = await started
        yield Stream(status, headers, chunks())
    finally:
        gone.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def serves(app: ASGIApp, method: str, path: str) -> bool:
    """Whether the app has a route for `method path` (a route another part of the server
    adds may not be there yet)."""
    from starlette.routing import Match

    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in getattr(app, "routes", []):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False
