"""The device page's log panel: the API's log stream, relayed to the browser as
server-sent events.

Part of the web stage. The browser cannot send the session's token itself (the cookie is
HttpOnly), so this route reads `GET /device/v2/<uuid>/logs?stream=1` (spec/device-api.md
§7: the latest lines, then new ones as they arrive, as NDJSON) in process with that token,
and sends each line on as one `data:` event. The API's checks (a user's credential, a
device they may read) decide; a server without the log routes says so in one event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import StreamingResponse

from fleetyard.web import internal
from fleetyard.web.session import Session

HISTORY_LINES = 100


def _event(data: bytes | str, name: str | None = None) -> bytes:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    head = f"event: {name}\n" if name else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode()


def log_stream(request: Request, s: Session, uuid: str) -> StreamingResponse:
    path = f"/device/v2/{uuid}/logs"

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 5000\n\n"
        if not internal.serves(request.app, "GET", path):
            yield _event("This server keeps no device logs.", "unavailable")
            return
        async with internal.stream(request.app, request, path, query=f"stream=1&count={HISTORY_LINES}",
                                   token=s.token) as answer:
            if answer.status != 200:
                body = b"".join([c async for c in answer.chunks])
                yield _event(body or f"The logs answered {answer.status}.".encode(), "unavailable")
                return
            yield _event("", "open")
            pending = b""
            async for chunk in answer.chunks:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():  # a bare newline is the API's keep-alive
                        yield _event(line)
                    else:
                        yield b": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
