"""Brute force: failed password checks per account and per address, slowed, then refused.

Part of `auth/`, used by the routes that take a password (`/login_`, the refresh with a
password). spec/device-api.md §11: the reference refuses after 10 tries per address and
username in 2 hours, for an hour, with 429 `"Too Many Requests"` and `Retry-After`.
fleetyard counts an account's failures from every address (so spreading the guesses
over many addresses does not help) and an address's failures over every account (so
does not trying many accounts), slows each failure after the first few, and forgets an
account's failures when its password is given right. Counters live in the process's
memory: with several workers each counts on its own, so the limits hold per worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


class Throttle:
    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.limits = limits or Limits()
        self.clock = clock
        self.max_keys = max_keys
        self._counts: dict[tuple[str, str], _Count] = {}

    def _keys(self, account: str, address: str) -> list[tuple[tuple[str, str], int]]:
        return [(("account", account.lower()), self.limits.per_account),
                (("address", address), self.limits.per_address)]

    def check(self, account: str, address: str) -> None:
        """Raises `TooManyRequests` while the account or the address is refused."""
        now = self.clock()
        for key, _ in self._keys(account, address):
            count = self._counts.get(key)
            if count is not None and count.blocked_until > now:
                raise TooManyRequests(count.blocked_until - now)

    def failed(self, account: str, address: str) -> float:
        """Note a failure; the seconds to wait before answering it."""
        now = self.clock()
        if len(self._counts) >= self.max_keys:
            self._forget_old(now)
        worst = 0
        for key, limit in self._keys(account, address):
            count = self._counts.setdefault(key, _Count())
            count.failures = [t for t in count.failures if t > now - self.limits.window] + [now]
            if len(count.failures) >= limit:
                count.blocked_until = now + self.limits.block
                count.failures = []
            worst = max(worst, len(count.failures))
        over = worst - self.limits.free
        return 0.0 if over <= 0 else min(self.limits.max_delay, self.limits.delay * 2 ** (over - 1))

    def succeeded(self, account: str, address: str) -> None:
        self._counts.pop(("account", account.lower()), None)

    def _forget_old(self, now: float) -> None:
        horizon = now - self.limits.window
        self._counts = {k: c for k, c in self._counts.items()
                        if c.blocked_until > now or any(t > horizon for t in c.failures)}
        if len(self._counts) >= self.max_keys:  # a flood of addresses: start again
            self._counts.clear()
