"""Brute force: failed password checks per account and per address, slowed, then refused.

Part of `auth/`, used by the routes that take a password (`/login_`, the refresh with a
password). spec/device-api.md §11: the reference refuses after 10 tries per address and
username in 2 hours, for an hour, with 429 `"Too Many Requests"` and `Retry-After`.
fleetyard counts an account's failures from every address (so spreading the guesses
over many addresses does not help) and an address's failures over every account (so
does not trying many accounts), slows each failure after the first few, and forgets an
account's failures when its password is given right. Counters live in the process's
memory (`Throttle`), or in Redis (`RedisThrottle`, when FLEETYARD_REDIS_URL is set) where
every server process counts together, so more processes do not mean more guesses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleetyard.errors import FleetyardError


class TooManyRequests(FleetyardError):
    status = 429
    code = "auth.too_many_requests"

    def __init__(self, retry_after: float):
        super().__init__("Too Many Requests")
        seconds = str(max(1, int(retry_after + 0.999)))
        self.headers = {"Retry-After": seconds, "Access-Control-Expose-Headers": "Retry-After"}


@dataclass
class _Count:
    failures: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


@dataclass
class Limits:
    per_account: int = 10
    per_address: int = 30
    window: float = 2 * 3600.0  # failures older than this are forgotten
    block: float = 3600.0  # how long a key stays refused once over its limit
    free: int = 3  # failures before the slowing starts
    delay: float = 0.25  # the first slowed failure's wait, doubling up to `max_delay`
    max_delay: float = 4.0


def _keys(limits: Limits, account: str, address: str) -> list[tuple[tuple[str, str], int]]:
    return [(("account", account.lower()), limits.per_account), (("address", address), limits.per_address)]


def _wait(limits: Limits, worst: int) -> float:
    """The wait before answering a failure, from the larger of its two counts."""
    over = worst - limits.free
    return 0.0 if over <= 0 else min(limits.max_delay, limits.delay * 2 ** (over - 1))


class Throttle:
    """The counters of one process."""

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.limits = limits or Limits()
        self.clock = clock
        self.max_keys = max_keys
        self._counts: dict[tuple[str, str], _Count] = {}

    async def check(self, account: str, address: str) -> None:
        """Raises `TooManyRequests` while the account or the address is refused."""
        now = self.clock()
        for key, _ in _keys(self.limits, account, address):
            count = self._counts.get(key)
            if count is not None and count.blocked_until > now:
                raise TooManyRequests(count.blocked_until - now)

    async def failed(self, account: str, address: str) -> float:
        """Note a failure; the seconds to wait before answering it."""
        now = self.clock()
        if len(self._counts) >= self.max_keys:
            self._forget_old(now)
        worst = 0
        for key, limit in _keys(self.limits, account, address):
            count = self._counts.setdefault(key, _Count())
            count.failures = [t for t in count.failures if t > now - self.limits.window] + [now]
            if len(count.failures) >= limit:
                count.blocked_until = now + self.limits.block
                count.failures = []
            worst = max(worst, len(count.failures))
        return _wait(self.limits, worst)

    async def succeeded(self, account: str, address: str) -> None:
        self._counts.pop(("account", account.lower()), None)

    def _forget_old(self, now: float) -> None:
        horizon = now - self.limits.window
        self._counts = {k: c for k, c in self._counts.items()
                        if c.blocked_until > now or any(t > horizon for t in c.failures)}
        if len(self._counts) >= self.max_keys:  # a flood of addresses: start again
            self._counts.clear()


# One failure, atomically: drop the failures older than the window, add this one, and
# refuse the key for `block` seconds once it reaches its limit. KEYS: the failures (a
# sorted set by time), the refused-until time. ARGV: now, window, limit, block, a unique
# member, the keys' lifetime in ms. Answers the failures counted now.
_FAILED = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[5])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], tostring(now + tonumber(ARGV[4])), 'PX', ARGV[6])
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return n
"""


class RedisThrottle:
    """The same counters in Redis, shared by every server process (wall-clock time: the
    processes may be on several machines)."""

    def __init__(self, client: Any, prefix: str, limits: Limits | None = None,
                 clock: Callable[[], float] = time.time):
        self.client = client
        self.prefix = prefix
        self.limits = limits or Limits()
        self.clock = clock
        self._failed = client.register_script(_FAILED)

    def _k(self, kind: str, key: tuple[str, str]) -> str:
        return f"{self.prefix}{kind}:{key[0]}:{key[1]}"

    async def check(self, account: str, address: str) -> None:
        now = self.clock()
        until = await self.client.mget([self._k("refused", key) for key, _ in _keys(self.limits, account, address)])
        for value in until:
            if value is not None and float(value) > now:
                raise TooManyRequests(float(value) - now)

    async def failed(self, account: str, address: str) -> float:
        now = self.clock()
        lifetime_ms = int(max(self.limits.window, self.limits.block) * 1000) + 60_000
        worst = 0
        for key, limit in _keys(self.limits, account, address):
            n = await self._failed(keys=[self._k("failures", key), self._k("refused", key)], args=[
                now, self.limits.window, limit, self.limits.block, f"{now}:{uuid.uuid4().hex[:12]}", lifetime_ms])
            worst = max(worst, int(n))
        return _wait(self.limits, worst)

    async def succeeded(self, account: str, address: str) -> None:
        await self.client.delete(self._k("failures", ("account", account.lower())))
