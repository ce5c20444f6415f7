"""Device logs: batches a device posts, the latest lines a user reads, and a live stream
(spec/device-api.md §7).

Part of the device side. Lines are kept per device in the backplane (memory, or Redis
shared by several processes), at most `log_retention` of them (1,000, as the reference)
and for at most 30 days. A device may post 14 batches per 10 s; past that it gets 429
for 10 s, as the reference's limiter.
"""

from __future__ import annotations

import time
from typing import Any

from fleetyard.device.common import BadRequest, TooManyRequests
from fleetyard.odata.values import parse_datetime

MAX_BATCH = 10
MAX_COUNT = 1000
RETENTION_MS = 30 * 24 * 3600 * 1000
RATE_POINTS, RATE_WINDOW_S, RATE_BLOCK_S = 14, 10.0, 10.0
OLD_FORMAT = ("is_stderr", "is_system", "image_id")


def batch(body: object, received_ms: int) -> list[dict[str, Any]]:
    """The lines of a posted batch as stored: `{message, timestamp, isSystem, isStdErr,
    serviceId?, createdAt}`; dependent devices' lines (a `uuid`) are skipped."""
    if not isinstance(body, list):
        raise BadRequest("Logs must be sent as a JSON array")
    if len(body) > MAX_BATCH:
        raise BadRequest(f"Batches cannot include more than {MAX_BATCH} logs")
    out = []
    for log in body:
        if not isinstance(log, dict):
            raise BadRequest("Each log must be an object")
        if any(k in log for k in OLD_FORMAT):
            raise BadRequest("Old log format is not supported")
        if log.get("uuid"):
            continue
        message, timestamp = log.get("message"), log.get("timestamp")
        if not isinstance(message, str):
            raise BadRequest("A log's message must be a string")
        if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
            raise BadRequest("A log's timestamp must be a number")
        line: dict[str, Any] = {"message": message, "timestamp": int(timestamp),
                                "isSystem": bool(log.get("isSystem", False)),
                                "isStdErr": bool(log.get("isStdErr", False))}
        service = log.get("serviceId")
        if isinstance(service, (int, float)) and not isinstance(service, bool):
            line["serviceId"] = int(service)
        line["createdAt"] = received_ms
        out.append(line)
    return out


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
