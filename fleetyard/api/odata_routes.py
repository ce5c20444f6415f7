"""The OData route: `/<version>/<OData URL>` for GET, POST, PATCH, MERGE, PUT, DELETE, OPTIONS.

The first stage of the pipeline. Everything after the version segment is the OData URL,
taken from the raw request target — still percent-encoded, `/` inside quoted keys included —
with the raw query string (spec/odata.md §1, §2); the engine parses it. A read's JSON text,
built by the database, goes into the body as is (§9); only request bodies are parsed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleetyard.api.callers import CallerResolver
from fleetyard.api.errors import BodyTooLarge, InvalidJSON, answer
from fleetyard.model.schema import Model
from fleetyard.odata.permissions import Permissions
from fleetyard.versions import V6, Translation

MAX_BODY = 512 * 1024  # the reference's body-parser limit (spec/model.md §0.3)
METHODS = ("GET", "POST", "PATCH", "MERGE", "PUT", "DELETE", "OPTIONS")

_JSON = b"application/json; charset=utf-8"
_NO_CACHE = (b"cache-control", b"no-cache")


class ODataService(Protocol):
    """What a version answers through: the `Engine` itself for v7, a translation in front
    of it for v6 (`fleetyard/versions/`)."""

    model: Model

    async def get(self, url: str, permissions: Permissions, context: Mapping[str, Any] | None = None) -> str: ...
    async def post(self, url: str, body: object, permissions: Permissions,
                   context: Mapping[str, Any] | None = None) -> dict: ...
    async def patch(self, url: str, body: object, permissions: Permissions,
                    context: Mapping[str, Any] | None = None) -> int: ...
    async def put(self, url: str, body: object, permissions: Permissions,
                  context: Mapping[str, Any] | None = None) -> int: ...
    async def delete(self, url: str, permissions: Permissions,
                     context: Mapping[str, Any] | None = None) -> int: ...


@dataclass(frozen=True)
class Version:
    """One served URL prefix. Without a translation it serves the engine as it is (v7);
    with one (`fleetyard/versions/`: v6) the translation builds the service — its model,
    request and answer translation — and says what PATCH/PUT/DELETE answer."""

    name: str
    translation: Translation | None = None

    def service(self, engine: ODataService) -> ODataService:
        return engine if self.translation is None else self.translation.service(engine)

    def written(self) -> Response:
        """The answer to a PATCH, PUT or DELETE that succeeded: 200, empty in v7
        (odata.md §12), the JSON string `"OK"` in v6 (spec/versions.md §5.6)."""
        body = b"" if self.translation is None else self.translation.written
        if body:
            return JSONText(body)
        return Response(b"", 200, {"Cache-Control": "no-cache"})


# decisions.md "Versions": /v7 and /v6; any other prefix (/v1-/v5, /resin) is a 404
# naming these.
DEFAULT_VERSIONS: tuple[Version, ...] = (Version("v7"), Version("v6", V6))


class JSONText(Response):
    """A JSON body already encoded: Starlette's header building skipped on the hot path."""

    def __init__(self, body: bytes, status: int = 200, extra: Iterable[tuple[bytes, bytes]] = ()):
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [
            (b"content-type", _JSON), _NO_CACHE, (b"content-length", str(len(body)).encode()), *extra,
        ]


class ODataRoutes:
    """The routes of every served version; `bind(engine)` at startup gives them a service."""

    def __init__(self, versions: Sequence[Version], caller: CallerResolver, max_body: int = MAX_BODY):
        self.versions = {v.name: v for v in versions}
        self.caller = caller
        self.max_body = max_body
        self._services: dict[str, ODataService] = {}

    def bind(self, engine: ODataService) -> None:
        self._services = {name: v.service(engine) for name, v in self.versions.items()}

    def routes(self) -> list[Route]:
        routes = []
        for name in self.versions:
            route = Route(f"/{name}/{{rest:path}}", self._endpoint(name), methods=list(METHODS))
            # Routing sees the decoded path, where a key's `%0A` is a newline that Starlette's
            # `.*` would not match; the raw URL is read in `handle` anyway.
            route.path_regex = re.compile(f"^/{re.escape(name)}/(?P<rest>.*)$", re.DOTALL)
            # Starlette adds HEAD to every GET route; the reference has no HEAD (odata.md §12.5)
            # and a HEAD that ran the query only to drop its answer is waste: 405.
            assert route.methods is not None
            route.methods.discard("HEAD")
            routes.append(route)
        return routes

    def _endpoint(self, name: str):
        async def endpoint(request: Request) -> Response:
            return await self.handle(name, request)

        endpoint.__name__ = f"odata_{name}"
        return endpoint

    async def handle(self, name: str, request: Request) -> Response:
        scope = request.scope
        method = scope["method"]
        try:
            if method == "OPTIONS":  # 200, empty, no SQL (odata.md §12.5)
                return Response(b"", 200, {"Cache-Control": "no-cache"})
            service = self._services[name]
            url = odata_url(scope)
            who = await self.caller(request)
            if method == "GET":
                text = await service.get(url, who.permissions, who.context)
                return JSONText(text.encode())
            if method == "DELETE":
                await service.delete(url, who.permissions, who.context)
                return self.versions[name].written()
            body = await read_json(request, self.max_body)
            if method == "POST":
                created = await service.post(url, body, who.permissions, who.context)
                where = location(name, url, service.model, created)
                return JSONText(orjson.dumps(created), 201, ((b"location", where.encode()),))
            if method == "PUT":
                await service.put(url, body, who.permissions, who.context)
            else:  # PATCH and MERGE are the same (odata.md §12.2)
                await service.patch(url, body, who.permissions, who.context)
            return self.versions[name].written()
        except Exception as exc:
            return answer(exc, scope)


def odata_url(scope: Mapping[str, Any]) -> str:
    """The OData URL of a request: the raw path after the version segment, then `?` and
    the raw query string. Never a decoded copy: `team('a%2Fb')` keeps its `%2F`."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:  # a server that gives no raw path: re-encode the decoded one
        raw = quote(scope["path"], safe="/:@!$&'()*+,;=-._~").encode()
    q = raw.find(b"?")  # some servers leave the query on raw_path; a raw path has no bare `?`
    if q >= 0:
        raw = raw[:q]
    cut = raw.find(b"/", 1)
    path = raw[cut:] if cut > 0 else b"/"
    query: bytes = scope.get("query_string") or b""
    if query:
        path = path + b"?" + query
    return path.decode("utf-8", "replace")


async def read_json(request: Request, limit: int) -> object:
    """The request body parsed as JSON (None when empty), refused past `limit` bytes."""
    for key, value in request.scope["headers"]:
        if key == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise BodyTooLarge(_too_large(limit))
            break
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # also bounds chunked bodies, which have no length
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(_too_large(limit))
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.strip():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidJSON(f"Invalid JSON in the request body: {e}") from None


def _too_large(limit: int) -> str:
    return f"Request body too large: the limit is {limit // 1024} kB"


def location(version: str, url: str, model: Model, created: Mapping[str, Any]) -> str:
    """`/<root>/<resource>(@id)?@id=<id>` for a created row (odata.md §12.1), the resource
    named as the client named it. A string id is quoted and encoded as the reference does."""
    end = len(url)
    for stop in "(/?":
        i = url.find(stop, 1)
        if 0 < i < end:
            end = i
    name = url[1:end]
    resource = model.get(name)
    id_field = resource.id_field if resource is not None else "id"
    value = created.get(id_field, created.get("id"))
    if isinstance(value, str):  # encodeURIComponent keeps -_.!~*'()
        value = "'" + quote(value, safe="-_.!~*'()") + "'"
    return f"/{version}/{name}(@id)?@id={value}"
