"""The dashboard's Jinja2 environment and the small formatting filters its templates use.

Part of the web stage. Templates live in `templates/` beside this module and are
autoescaped; the filters are `formatting.py`'s.
"""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

from fleetyard.web.formatting import ago, os_label, release_label, when

HERE = Path(__file__).parent
STATIC = HERE / "static"
# static/htmx.min.js is dist/htmx.min.js of the npm package htmx.org at this version (the
# package's tarball: sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==);
# the page loads it with this subresource integrity, and tests/web checks the file against it.
HTMX_VERSION = "2.0.11"
HTMX_INTEGRITY = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(ago=ago, when=when, release=release_label, os=os_label)
templates.env.globals.update(htmx_version=HTMX_VERSION, htmx_integrity=HTMX_INTEGRITY)
