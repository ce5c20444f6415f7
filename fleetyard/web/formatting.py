"""How the dashboard and the operator CLI write dates and releases for people.

Part of the web stage, imported by the CLI too (so it imports nothing heavy). Dates arrive
as the API's ISO-8601 text with milliseconds and `Z`.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def ago(value: str | None, now: datetime | None = None) -> str:
    """'3 minutes ago', or 'never'."""
    when = parse_date(value)
    if when is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 5:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def when(value: str | None) -> str:
    """A date for a table: 2026-01-02 10:11:12 UTC."""
    d = parse_date(value)
    return d.strftime("%Y-%m-%d %H:%M:%S UTC") if d else "—"


def release_label(release: dict | None) -> str:
    """A release as people name it: its version and short commit."""
    if not release:
        return "—"
    version = release.get("raw_version") or release.get("semver") or ""
    commit = (release.get("commit") or "")[:7]
    return f"{version} ({commit})" if version else commit


def os_label(device: dict) -> str:
    os = device.get("os_version") or ""
    variant = device.get("os_variant")
    return f"{os} ({variant})" if os and variant else os or "—"
