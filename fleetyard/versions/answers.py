"""What a version shows differently from what the database builds: a few fields whose
answer type changed between versions (v6: `image_size` a number, `release.contract` JSON
text; spec/versions.md §5.5).

Part of the versions stage. The database still builds the JSON; only an answer that holds
such a field is decoded, changed and encoded again — which the request's resource and
$expand tree tell before anything is decoded, so every other answer passes untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from fleetyard.errors import FleetyardError
from fleetyard.model.schema import Model, Resource
from fleetyard.odata import ast
from fleetyard.odata.parser import parse


def _number(v: Any) -> Any:
    """A Big Integer (a string in v7) as a JSON number, as the reference's v6 parses it
    into a JavaScript number (precision beyond 2^53 is v6's own loss)."""
    return int(v) if isinstance(v, str) else v


def _json_text(v: Any) -> Any:
    """A JSON value as its text (v6's `Cast(ToJSON(...), Text)`); null stays null."""
    return v if v is None else orjson.dumps(v).decode()


FORMATS: Mapping[str, Callable[[Any], Any]] = {"number": _number, "json_text": _json_text}

Formats = Mapping[str, Mapping[str, str]]  # resource → field → format name


class Answers:
    """Formats one version's answers over its model."""

    def __init__(self, model: Model, formats: Formats, cache_size: int = 4096):
        self.model = model
        self.formats = formats
        self.cache_size = cache_size
        self._plans: dict[str, tuple[Resource, ast.Options] | None] = {}

    def read(self, url: str, text: str) -> str:
        """A GET's body (`{"d": [...]}` or `{"d": n}`), formatted when it needs to be."""
        plan = self._plan(url)
        if plan is None:
            return text
        body = orjson.loads(text)
        if isinstance(body.get("d"), list):
            self._rows(plan[0], body["d"], plan[1])
        return orjson.dumps(body).decode()

    def created(self, resource: str, row: dict) -> dict:
        """A POST's created entity."""
        r = self.model.get(resource)
        if r is not None and r.name in self.formats:
            self._rows(r, [row], ast.Options())
        return row

    # --- which answers need it ----------------------------------------------------------

    def _plan(self, url: str) -> tuple[Resource, ast.Options] | None:
        if url in self._plans:
            return self._plans[url]
        plan = self._plan_of(url)
        if len(self._plans) >= self.cache_size:
            self._plans.clear()
        self._plans[url] = plan
        return plan

    def _plan_of(self, url: str) -> tuple[Resource, ast.Options] | None:
        try:
            req = parse(url)
        except FleetyardError:  # the engine has answered already; nothing to format
            return None
        if req.count or req.special is not None:
            return None
        r = self.model.get(req.resource)
        for seg in req.navigation:
            nav = r.navigation(seg.name) if r is not None else None
            r = self.model.get(nav.target) if nav is not None else None
        if r is None or not self._touches(r, req.options):
            return None
        return r, req.options

    def _touches(self, r: Resource, opts: ast.Options) -> bool:
        own = self.formats.get(r.name, {})
        if own and (opts.select is None or opts.select_all
                    or any(p.segments[0].name in own for p in opts.select)):
            return True
        for item in opts.expand or ():
            nav = r.navigation(item.name)
            if nav is not None and not item.count:
                target = self.model.get(nav.target)
                if target is not None and self._touches(target, item.options):
                    return True
        return False

    # --- formatting ---------------------------------------------------------------------

    def _rows(self, r: Resource, rows: list, opts: ast.Options) -> None:
        own = self.formats.get(r.name, {})
        expansions = []
        for item in opts.expand or ():
            nav = r.navigation(item.name)
            target = self.model.get(nav.target) if nav is not None and not item.count else None
            if target is not None:
                expansions.append((item.name, target, item.options))
        for row in rows:
            if not isinstance(row, dict):
                continue
            for name, fmt in own.items():
                if name in row:
                    row[name] = FORMATS[fmt](row[name])
            for name, target, options in expansions:
                sub = row.get(name)
                if isinstance(sub, list):
                    self._rows(target, sub, options)
