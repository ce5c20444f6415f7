"""A translated version's OData service: the canonical engine's database and rules behind
the version's own model, body translation and answer format.

The versions stage as the HTTP layer sees it (`api/odata_routes.py` `Version`): reads
resolve against the version's model (lenient: v6 drops unknown $select/$expand names);
writes get their body translated first, then run through an engine on the version's
model whose hooks are the canonical ones, acting through the canonical engine and seeing
the canonical resource — the domain rules never learn that v6 exists.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

from fleetyard.model.schema import Model, Resource
from fleetyard.odata.engine import Engine
from fleetyard.odata.hooks import Hooks, Write
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.versions import v6
from fleetyard.versions.answers import Answers
from fleetyard.versions.v6_writes import V6Writes


class CanonicalHooks:
    """A canonical resource's rules, run for a write made through a version: every hook
    method gets the `Write` (its first argument) naming the canonical resource — its
    field types, its name — and everything else (`inputs`) is the rules' own. Forwarding
    by name keeps a hook method added to `Hooks` later from being skipped in v6."""

    def __init__(self, inner: Hooks, resource: Resource):
        self.inner = inner
        self.resource = resource

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(w: Write, *args: Any) -> Any:
            return await attr(dataclasses.replace(w, resource=self.resource), *args)

        return call


def version_hooks(model: Model, canonical: Engine) -> dict[str, Any]:
    """The canonical engine's hooks for the resources the version has under the same name."""
    hooks: dict[str, Any] = {}
    for name, h in canonical.hooks.items():
        if model.get(name) is not None and canonical.model.get(name) is not None:
            hooks[name] = CanonicalHooks(h, canonical.model.resource(name))
    return hooks


class V6Service:
    """/v6 over the engine that serves /v7 (spec/versions.md §5)."""

    def __init__(self, canonical: Engine):
        self.model = v6.model()
        self.canonical = canonical
        self.engine = Engine(self.model, canonical.db, hooks=version_hooks(self.model, canonical),
                             lenient=True, canonical=canonical)
        self.writes = V6Writes(canonical)
        self.answers = Answers(self.model, v6.ANSWER_FORMATS)

    def _resource(self, url: str) -> Resource:
        return self.model.resource(parse(url).resource)

    async def get(self, url: str, permissions: Permissions, context: Mapping[str, Any] | None = None) -> str:
        return self.answers.read(url, await self.engine.get(url, permissions, context))

    async def post(self, url: str, body: object, permissions: Permissions,
                   context: Mapping[str, Any] | None = None) -> dict:
        r = self._resource(url)
        body = await self.writes.body(r, "POST", body, context or {})
        return self.answers.created(r.name, await self.engine.post(url, body, permissions, context))

    async def patch(self, url: str, body: object, permissions: Permissions,
                    context: Mapping[str, Any] | None = None) -> int:
        body = await self.writes.body(self._resource(url), "PATCH", body, context or {})
        return await self.engine.patch(url, body, permissions, context)

    async def put(self, url: str, body: object, permissions: Permissions,
                  context: Mapping[str, Any] | None = None) -> int:
        body = await self.writes.body(self._resource(url), "PUT", body, context or {})
        return await self.engine.put(url, body, permissions, context)

    async def delete(self, url: str, permissions: Permissions,
                     context: Mapping[str, Any] | None = None) -> int:
        await self.writes.body(self._resource(url), "DELETE", None, context or {})
        return await self.engine.delete(url, permissions, context)
