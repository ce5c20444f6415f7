"""The dashboard's parts that need no browser nor server: the pinned htmx file, the
device list's OData request, the date and release formats, the in-process route lookup."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fleetyard.web import internal
from fleetyard.web.formatting import ago, os_label, release_label, when
from fleetyard.web.reads import DeviceQuery, counts, literal
from fleetyard.web.templating import HTMX_INTEGRITY, HTMX_VERSION, STATIC


def test_the_vendored_htmx_is_the_pinned_file() -> None:
    data = (STATIC / "htmx.min.js").read_bytes()
    assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == HTMX_INTEGRITY
    assert HTMX_VERSION == "2.0.11" and data.startswith(b"var htmx=function()")


def test_the_device_query() -> None:
    q = DeviceQuery.from_params({"q": " Cam'era ", "status": "operational", "sort": "last_seen", "dir": "desc"})
    assert q == DeviceQuery(text="Cam'era", status="operational", sort="last_seen", descending=True)
    assert q.odata(7) == (
        "$filter=belongs_to__application eq 7 and overall_status eq 'operational' and "
        "(contains(tolower(device_name),'cam%27%27era') or startswith(uuid,'cam%27%27era'))"
        "&$orderby=last_connectivity_event desc,device_name asc,id asc")
    # Unknown values fall back to the defaults rather than reaching the engine.
    assert DeviceQuery.from_params({"status": "nope", "sort": "x;drop"}) == DeviceQuery()
    assert DeviceQuery().odata(1) == "$filter=belongs_to__application eq 1&$orderby=device_name asc,id asc"
    assert literal("a b&c") == "'a%20b%26c'"


def test_counts_keep_every_status_in_order() -> None:
    assert list(counts(["disconnected", "operational", "operational"]).items())[:2] == [
        ("operational", 2), ("updating", 0)]
    assert counts(["weird"])["weird"] == 1


def test_formats() -> None:
    now = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)
    assert ago(None) == "never"
    assert ago("2026-01-02T11:59:58.000Z", now) == "just now"
    assert ago("2026-01-02T11:58:00.000Z", now) == "2 minutes ago"
    assert ago("2025-12-31T12:00:00.000Z", now) == "2 days ago"
    assert when("2026-01-02T10:11:12.000Z") == "2026-01-02 10:11:12 UTC" and when(None) == "—"
    assert release_label({"raw_version": "1.2.0", "commit": "abcdef123456"}) == "1.2.0 (abcdef1)"
    assert release_label(None) == "—"
    assert os_label({"os_version": "balenaOS 6.0.1", "os_variant": "prod"}) == "balenaOS 6.0.1 (prod)"
    assert os_label({}) == "—"


def test_serves_tells_which_routes_the_app_has() -> None:
    app = Starlette(routes=[Route("/device/v2/{uuid}/logs", lambda r: PlainTextResponse(""), methods=["GET"])])
    assert internal.serves(app, "GET", "/device/v2/abc/logs")
    assert not internal.serves(app, "POST", "/device/v2/abc/logs")
    assert not internal.serves(app, "GET", "/api-key/user/full")
