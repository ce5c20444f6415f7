"""Device logs: batches a device posts, the latest lines a user reads, and a live stream
(spec/device-api.md §7).

Part of the device side. Lines are kept per device in the backplane (memory, or Redis
shared by several processes), at most `log_retention` of them (1,000, as the reference)
and for at most 30 days. A device may post 14 batches per 10 s; past that it gets 429
for 10 s, as the reference's limiter. The supervisor itself keeps one long request open
instead (`log-stream`): NDJSON, usually gzipped, stored as it arrives in batches of up
to 50 lines or every 500 ms.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import orjson

from fleetyard.device.common import BadRequest, TooManyRequests
from fleetyard.odata.values import parse_datetime

MAX_BATCH = 10
MAX_COUNT = 1000
RETENTION_MS = 30 * 24 * 3600 * 1000
RATE_POINTS, RATE_WINDOW_S, RATE_BLOCK_S = 14, 10.0, 10.0
OLD_FORMAT = ("is_stderr", "is_system", "image_id")
# A log stream is stored in batches: at most this many lines, or what came in this long.
STREAM_BATCH, STREAM_FLUSH_S = 50, 0.5
MAX_LINE = 256 * 1024
MAX_LINES_PER_CHUNK = 1000
INFLATE_PIECE = 1024 * 1024  # gzip is inflated at most this much at a time


def batch(body: object, received_ms: int) -> list[dict[str, Any]]:
    """The lines of a posted batch as stored: `{message, timestamp, isSystem, isStdErr,
    serviceId?, createdAt}`; dependent devices' lines (a `uuid`) are skipped."""
    if not isinstance(body, list):
        raise BadRequest("Logs must be sent as a JSON array")
    if len(body) > MAX_BATCH:
        raise BadRequest(f"Batches cannot include more than {MAX_BATCH} logs")
    return [x for log in body if (x := line(log, received_ms)) is not None]


def line(log: object, received_ms: int) -> dict[str, Any] | None:
    """One log as stored, None for a dependent device's; BadRequest if it is malformed."""
    if not isinstance(log, dict):
        raise BadRequest("Each log must be an object")
    if any(k in log for k in OLD_FORMAT):
        raise BadRequest("Old log format is not supported")
    if log.get("uuid"):
        return None
    message, timestamp = log.get("message"), log.get("timestamp")
    if not isinstance(message, str):
        raise BadRequest("A log's message must be a string")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        raise BadRequest("A log's timestamp must be a number")
    out: dict[str, Any] = {"message": message, "timestamp": int(timestamp),
                           "isSystem": bool(log.get("isSystem", False)),
                           "isStdErr": bool(log.get("isStdErr", False))}
    service = log.get("serviceId")
    if isinstance(service, (int, float)) and not isinstance(service, bool):
        out["serviceId"] = int(service)
    out["createdAt"] = received_ms
    return out


class StreamDecoder:
    """The lines of a log stream (`POST /device/v2/:uuid/log-stream`): NDJSON, gzip or
    not, in chunks as they arrive. Lines that are not a valid log are skipped, as the
    reference does; a line longer than `MAX_LINE` is dropped whole. A body that is not
    gzip although it says so is a BadRequest. However much a chunk inflates to, it is
    inflated a piece at a time, and at most `MAX_LINES_PER_CHUNK` of its lines are kept
    (the store keeps no more than that per device anyway): the rest are counted as
    suppressed, and `suppressed_notice` tells the device's log so."""

    def __init__(self, gzipped: bool):
        self._inflate = zlib.decompressobj(wbits=31) if gzipped else None
        self._fed = False
        self._partial = b""
        self._dropping = False  # inside a line that was too long
        self._kept = 0  # lines kept of the current chunk
        self.skipped = 0
        self.suppressed = 0

    def feed(self, chunk: bytes, received_ms: int) -> list[dict[str, Any]]:
        self._kept = 0
        if self._inflate is None:
            return self._lines(chunk, received_ms)
        out: list[dict[str, Any]] = []
        for piece in self._gunzip(chunk):
            out += self._lines(piece, received_ms)
        return out

    def end(self, received_ms: int) -> list[dict[str, Any]]:
        if self._inflate is not None and self._fed and not self._inflate.eof:
            raise BadRequest("The log stream ended inside its gzip data")
        self._kept = 0
        return self._lines(b"\n", received_ms)

    def suppressed_notice(self, received_ms: int) -> dict[str, Any] | None:
        """A system line saying how many lines were suppressed since the last notice."""
        if not self.suppressed:
            return None
        n, self.suppressed = self.suppressed, 0
        return {"message": f"Warning: Suppressed {n} message(s) due to rate limiting", "timestamp": received_ms,
                "isSystem": True, "isStdErr": True, "createdAt": received_ms}

    def _gunzip(self, chunk: bytes) -> Iterator[bytes]:
        assert self._inflate is not None
        if not chunk:
            return
        self._fed = True
        try:
            while True:
                piece = self._inflate.decompress(chunk, INFLATE_PIECE)
                yield piece
                if self._inflate.eof:
                    chunk = self._inflate.unused_data  # a further gzip member follows
                    if not chunk:
                        return
                    self._inflate = zlib.decompressobj(wbits=31)
                else:
                    chunk = self._inflate.unconsumed_tail
                    if not chunk and len(piece) < INFLATE_PIECE:  # nothing held back either
                        return
        except zlib.error as e:
            raise BadRequest(f"The log stream is not valid gzip: {e}") from None

    def _lines(self, data: bytes, received_ms: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        *complete, rest = (self._partial + data).split(b"\n")
        for raw in complete:
            if self._dropping:
                self._dropping = False
                self.skipped += 1
                continue
            if not raw.strip():
                continue
            if self._kept >= MAX_LINES_PER_CHUNK:
                self.suppressed += 1
                continue
            parsed = self._parse(raw, received_ms)
            if parsed is not None:
                out.append(parsed)
                self._kept += 1
        if len(rest) > MAX_LINE:
            self._dropping, rest = True, b""
        self._partial = rest
        return out

    def _parse(self, raw: bytes, received_ms: int) -> dict[str, Any] | None:
        try:
            return line(orjson.loads(raw), received_ms)
        except (orjson.JSONDecodeError, BadRequest):
            self.skipped += 1
            return None


class StreamBuffer:
    """Lines of a log stream on their way to the store: written once `STREAM_BATCH` have
    come in, or `STREAM_FLUSH_S` after the first unwritten one, whichever is first, in
    the order they came. `add` waits while a full batch is written, so a slow store
    slows the upload instead of piling lines up in memory."""

    def __init__(self, append: Callable[[list[dict[str, Any]]], Awaitable[None]]):
        self._append = append
        self._pending: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def add(self, lines: list[dict[str, Any]]) -> None:
        self._raise()
        self._pending += lines
        if len(self._pending) >= STREAM_BATCH:
            await self.flush()
        elif self._pending and self._timer is None:
            self._timer = asyncio.create_task(self._later())

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if batch:
            async with self._lock:  # taken before any await: batches keep their order
                await self._append(batch)

    async def close(self) -> None:
        """Write what is left (also after the device went away mid-stream)."""
        if self._timer is not None:
            self._timer.cancel()  # only ever cancelled while it sleeps (see _later)
            self._timer = None
        await self.flush()
        self._raise()

    async def _later(self) -> None:
        try:
            await asyncio.sleep(STREAM_FLUSH_S)
        except asyncio.CancelledError:
            return
        self._timer = None
        try:
            await self.flush()
        except Exception as e:  # noqa: BLE001 — reported by the next add or close
            self._error = e

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def count(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    if raw == "all":
        return MAX_COUNT
    if not raw.isdigit():
        raise BadRequest("count must be a number or 'all'")
    return min(int(raw), MAX_COUNT)


def start(raw: str | None, default_ms: int, now_ms: int) -> int:
    """`start` as epoch ms or a date; never earlier than 30 days ago."""
    floor = now_ms - RETENTION_MS
    if raw is None or raw == "":
        value = default_ms
    elif raw.isdigit():
        value = int(raw)
    else:
        parsed = parse_datetime(raw)
        if parsed is None:
            raise BadRequest("start must be a timestamp in milliseconds or a date")
        value = int(parsed.timestamp() * 1000)
    return max(value, floor)


class RateLimiter:
    """Points per window per key; a key that runs out is blocked for a while."""

    def __init__(self, points: int = RATE_POINTS, window_s: float = RATE_WINDOW_S, block_s: float = RATE_BLOCK_S):
        self.points, self.window_s, self.block_s = points, window_s, block_s
        self._windows: dict[str, tuple[float, int]] = {}
        self._blocked: dict[str, float] = {}

    def take(self, key: str) -> None:
        now = time.monotonic()
        until = self._blocked.get(key)
        if until is not None:
            if now < until:
                raise TooManyRequests(max(1, round(until - now)))
            del self._blocked[key]
        began, used = self._windows.get(key, (now, 0))
        if now - began >= self.window_s:
            began, used = now, 0
        used += 1
        self._windows[key] = (began, used)
        if used > self.points:
            self._blocked[key] = now + self.block_s
            raise TooManyRequests(round(self.block_s))
        if len(self._windows) > 100_000:
            self._windows.clear()
