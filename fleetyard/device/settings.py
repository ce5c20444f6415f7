"""The device side's settings, read from the environment once per server process.

Timings follow the reference (spec/device-api.md §5): a device's poll interval is at least
ten minutes, it times out after 1.5 of them without a state fetch and goes offline 15 s
later. Tests shorten both with FLEETYARD_MIN_POLL_INTERVAL_MS and
FLEETYARD_HEARTBEAT_GRACE_MS. FLEETYARD_REDIS_URL makes several server processes share
heartbeats, state-cache invalidations and logs; FLEETYARD_VPN_SERVICE_API_KEY is the key
the VPN (cloudlink) service reports with (§6). FLEETYARD_PUBLIC_URL and the endpoint
variables are what generated config.json files point devices at (§8.1).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_POLL_INTERVAL_MS = 600_000  # DEFAULT_SUPERVISOR_POLL_INTERVAL, §3.2
DEFAULT_GRACE_MS = 15_000  # API_HEARTBEAT_STATE_TIMEOUT_SECONDS, §5
POLL_JITTER_FACTOR = 1.5
LOG_RETENTION = 1000  # LOGS_DEFAULT_RETENTION_LIMIT, §7
DELETED_DEVICE_LOGS_DELAY_MS = 55_000  # DELETED_FROZEN_DEVICE_LOGS_DELAY_MS, §7


@dataclass(frozen=True)
class DeviceSettings:
    min_poll_interval_ms: int = DEFAULT_POLL_INTERVAL_MS
    heartbeat_grace_ms: int = DEFAULT_GRACE_MS
    redis_url: str | None = None
    redis_prefix: str = "fleetyard:"
    vpn_service_api_key: str | None = None
    log_retention: int = LOG_RETENTION
    heartbeat_enabled: bool = True
    # A device that no longer exists but keeps sending logs waits this long for its 401,
    # so that a forgotten device does not hammer the server.
    deleted_device_logs_delay_ms: int = DELETED_DEVICE_LOGS_DELAY_MS
    # What a generated config.json points a device at (/download-config): this server at
    # the address the request came to unless `public_url` is set, and the services
    # fleetyard does not run itself only when they are given.
    public_url: str | None = None
    vpn_endpoint: str | None = None
    vpn_port: int = 443
    registry_endpoint: str | None = None
    delta_endpoint: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeviceSettings:
        env = os.environ if environ is None else environ
        return cls(
            min_poll_interval_ms=_whole(env, "FLEETYARD_MIN_POLL_INTERVAL_MS", DEFAULT_POLL_INTERVAL_MS),
            heartbeat_grace_ms=_whole(env, "FLEETYARD_HEARTBEAT_GRACE_MS", DEFAULT_GRACE_MS),
            redis_url=env.get("FLEETYARD_REDIS_URL") or None,
            redis_prefix=env.get("FLEETYARD_REDIS_PREFIX") or "fleetyard:",
            vpn_service_api_key=env.get("FLEETYARD_VPN_SERVICE_API_KEY") or None,
            log_retention=_whole(env, "FLEETYARD_LOG_RETENTION", LOG_RETENTION),
            heartbeat_enabled=env.get("FLEETYARD_HEARTBEAT_ENABLED", "1") not in ("0", "false"),
            deleted_device_logs_delay_ms=_whole(env, "FLEETYARD_DELETED_DEVICE_LOGS_DELAY_MS",
                                             DELETED_DEVICE_LOGS_DELAY_MS, zero=True),
            public_url=(env.get("FLEETYARD_PUBLIC_URL") or "").rstrip("/") or None,
            vpn_endpoint=env.get("FLEETYARD_VPN_ENDPOINT") or None,
            vpn_port=_whole(env, "FLEETYARD_VPN_PORT", 443),
            registry_endpoint=env.get("FLEETYARD_REGISTRY_ENDPOINT") or None,
            delta_endpoint=env.get("FLEETYARD_DELTA_ENDPOINT") or None,
        )

    def poll_interval(self, configured: object) -> int:
        """P of §5: the configured value read as JS `parseInt` does, never below the minimum."""
        return max(parse_int(configured), self.min_poll_interval_ms)

    def timeout_after_ms(self, poll_interval_ms: int) -> int:
        return -(-poll_interval_ms * 3 // 2)  # ceil(P × 1.5)


def parse_int(value: object) -> int:
    """JavaScript's `parseInt(value) || 0`: leading digits after optional space and sign."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def _whole(env: Mapping[str, str], name: str, default: int, *, zero: bool = False) -> int:
    """A whole-number setting (positive unless `zero` is allowed); a wrong one stops the start."""
    raw = env.get(name)
    if not raw:
        return default
    if not raw.strip().isdigit() or int(raw) < (0 if zero else 1):
        kind = "whole number" if zero else "positive whole number"
        raise ValueError(f"{name} must be a {kind}, not {raw!r}")
    return int(raw)
