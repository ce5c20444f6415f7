"""The device-facing endpoints: registration and key exchange, target state, state
reports, logs, the VPN service's reports and the config.json a device image is
configured with (spec/device-api.md §1-§8).

HTTP stage, beside the OData route: each handler works out who is calling (the same
credentials as everywhere, `api/callers.py`), checks what the reference checks in its
order, and hands the work to `fleetyard.device`. Errors become answers in `api/errors.py`.
`bind` gives the routes the running server's device side when the app starts.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fleetyard.api.callers import Authenticator, Caller, caller_for, credential
from fleetyard.api.errors import JSON, BodyTooLarge, InvalidJSON, NotFound, answer
from fleetyard.auth import api_keys, issuing
from fleetyard.auth.principals import Principal
from fleetyard.device import DeviceSide, cloudlink, config_json, device_types, logs, register, report
from fleetyard.device import state as target
from fleetyard.device.backplane import now_ms
from fleetyard.device.cache import etag
from fleetyard.device.common import (
    ApiKeyRequired,
    BadRequest,
    EmptyBadRequest,
    Unauthorized,
    UnsupportedMediaType,
    find_device_id,
    literal,
    ref,
    rows,
)

MAX_BODY = 512 * 1024
KEEP_ALIVE_S = 58.0  # §7: a bare newline keeps a quiet log stream open


class DeviceRoutes:
    def __init__(self) -> None:
        self.side: DeviceSide | None = None
        self.authenticator: Authenticator | None = None

    def bind(self, side: DeviceSide, authenticator: Authenticator) -> None:
        self.side = side
        self.authenticator = authenticator

    def routes(self) -> list[Route]:
        g = self._guard
        return [
            Route("/device/register", g(self.register), methods=["POST"]),
            Route("/api-key/device/{device_id}/device-key", g(self.device_key), methods=["POST"]),
            Route("/device/v3/fleet/{fleet_uuid}/state", g(self.fleet_state), methods=["GET"]),
            Route("/device/v3/state", g(self.patch_v3), methods=["PATCH"]),
            Route("/device/v3/tags", g(self.patch_tags), methods=["PATCH"]),
            Route("/device/v3/{uuid}/state", g(self.state_v3), methods=["GET"]),
            Route("/device/v2/{uuid}/state", g(self.state_v2), methods=["GET", "PATCH"]),
            Route("/device/v2/{uuid}/logs", g(self.logs), methods=["GET", "POST"]),
            Route("/device/v2/{uuid}/log-stream", g(self.log_stream), methods=["POST"]),
            Route("/download-config", g(self.download_config), methods=["GET", "POST"]),
            Route("/device-types/v1", g(self.device_types), methods=["GET"]),
            Route("/device-types/v1/{slug}", g(self.device_types), methods=["GET"]),
            Route("/services/vpn/client-connect", g(self.vpn_connect), methods=["POST"]),
            Route("/services/vpn/client-disconnect", g(self.vpn_disconnect), methods=["POST"]),
            Route("/services/vpn/auth/{uuid}", g(self.vpn_auth), methods=["GET"]),
        ]

    def _guard(self, handler):
        async def endpoint(request: Request) -> Response:
            if self.side is None or self.authenticator is None:  # a model without accounts
                return answer(NotFound(f"Not found: {request.url.path}"), request.scope)
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 — every error becomes an answer in api/errors.py
                return answer(exc, request.scope)

        endpoint.__name__ = handler.__name__
        return endpoint

    # --- who is calling ---------------------------------------------------------------------

    async def _principal(self, request: Request) -> Principal | None:
        assert self.authenticator is not None
        return await self.authenticator.principal(request)

    async def _api_key(self, request: Request) -> Principal:
        """`authenticatedApiKey`: a valid API key, else 401 `{"error":"API key required"}`."""
        p = await self._principal(request)
        if p is None or p.credential != "api_key":
            raise ApiKeyRequired()
        return p

    async def _may_use(self, p: Principal, device_id: int) -> bool:
        """Whether the caller may act on the device: its own key, or anyone who can read it
        (users' update rules are their read rules on devices)."""
        if p.actor_type == "device":
            return p.type_id == device_id
        if p.actor_type != "user":
            return False
        c = caller_for(p)
        assert self.side is not None
        found = orjson.loads(await self.side.engine.get(f"/device({device_id})?$select=id", c.permissions,
                                                        c.context))["d"]
        return bool(found)

    # --- registration -----------------------------------------------------------------------

    async def register(self, request: Request) -> Response:
        assert self.side is not None
        p = await self._api_key(request)
        c = caller_for(p)
        result = await register.register(self.side.engine, c.permissions, dict(c.context), await _body(request))
        return _json(result, 201)

    async def device_key(self, request: Request) -> Response:
        assert self.side is not None
        raw = request.path_params["device_id"]
        if not raw.isdigit():
            return Response(b"Device id must be a number", 400, media_type="text/plain")
        p = await self._principal(request)
        if p is None:
            raise Unauthorized()
        c = caller_for(p)
        key = await register.device_key(self.side.engine, c.permissions, dict(c.context), p, int(raw),
                                        await _body(request, empty=None))
        return _json(key, 200)

    # --- target state -----------------------------------------------------------------------

    async def _state(self, request: Request, version: str, shape: Any) -> Response:
        assert self.side is not None
        side = self.side
        entry = await side.cache.entry(request.path_params["uuid"])
        if entry is None:
            return Response(status_code=304)  # §3.1: a deleted device is gracefully denied
        p = await self._principal(request)
        if p is None or not await self._may_use(p, entry.state.id):
            raise Unauthorized()
        body, tag = side.cache.body(entry, version, shape)
        if p.actor_type == "device":
            await side.heartbeats.seen(entry.state.id, entry.state.poll_interval_ms)
        return _etagged(request, body, tag)

    async def state_v3(self, request: Request) -> Response:
        return await self._state(request, "v3", target.v3)

    async def state_v2(self, request: Request) -> Response:
        if request.method == "PATCH":
            return await self.patch_v2(request)
        return await self._state(request, "v2", target.v2)

    async def fleet_state(self, request: Request) -> Response:
        assert self.side is not None
        p = await self._principal(request)
        if p is None:
            raise Unauthorized()
        c = caller_for(p)
        fleet = request.path_params["fleet_uuid"]
        visible = orjson.loads(await self.side.engine.get(
            f"/application?$select=id&$filter=uuid eq {literal(fleet)}", c.permissions, c.context))["d"]
        loaded = await target.load_fleet(self.side.engine, fleet, request.query_params.get("releaseUuid"),
                                         self.side.settings) if visible else None
        if loaded is None:
            raise Unauthorized()
        body = orjson.dumps(target.fleet_v3(*loaded))
        return _etagged(request, body, etag(body))

    # --- state reports ----------------------------------------------------------------------

    async def _reporting(self, request: Request) -> tuple[dict[str, Any], dict[str, Any], Principal]:
        """§4.1: the reports by uuid, their devices, and the caller: an unknown uuid or no
        uuid at all is a 401 before anything else, then an API key able to act on each."""
        assert self.side is not None
        body = await _body(request)
        if not isinstance(body, dict):
            raise EmptyBadRequest("the body must be a JSON object")
        reports = {u: v for u, v in body.items() if isinstance(v, dict)}
        if not reports:
            raise Unauthorized()
        devices = {}
        for uuid in reports:
            device = await self.side.reports.device(uuid)
            if device is None:
                raise Unauthorized()
            devices[uuid] = device
        p = await self._api_key(request)
        for device in devices.values():
            if not await self._may_use(p, int(device["id"])):
                raise Unauthorized()
        return reports, devices, p

    async def patch_tags(self, request: Request) -> Response:
        """§4.4: tags created or changed, never deleted."""
        assert self.side is not None
        reports, devices, p = await self._reporting(request)
        if not any(reports.values()):
            raise BadRequest("No tags were sent to be updated.")
        for tags in reports.values():
            for key, value in tags.items():
                if not isinstance(value, str) or not key or any(ch.isspace() for ch in key) \
                        or key.startswith(("io.resin.", "io.balena.")):
                    raise EmptyBadRequest(f"invalid tag {key!r}")
        await report.write_tags(self.side.engine, {int(devices[u]["id"]): t for u, t in reports.items()},
                                {"__ACTOR_ID": p.actor})
        return Response(b"", 200)

    async def patch_v3(self, request: Request) -> Response:
        assert self.side is not None
        side = self.side
        reports, devices, p = await self._reporting(request)
        context = {"__ACTOR_ID": p.actor}
        for uuid, data in reports.items():
            device = devices[uuid]
            fields, metrics = report.device_fields(data)
            installs = None
            if "apps" in data:
                installs, _ = await report.v3_installs(side.engine, data["apps"])
                own = await report.fleet_uuid(side.engine, ref(device["belongs_to__application"]))
                app = data["apps"].get(own) if own else None
                if isinstance(app, dict):
                    await self._running_release(device, app.get("release_uuid"), fields)
                    statuses = [r.get("update_status") for r in (app.get("releases") or {}).values()
                                if isinstance(r, dict)]
                    status = report.lowest_update_status([s for s in statuses if isinstance(s, str)])
                    if status is not None:
                        fields["update_status"] = status
            await side.reports.apply(device, fields, metrics, installs, context)
        return Response(b"", 200)

    async def _running_release(self, device: dict[str, Any], commit: object, fields: dict[str, Any]) -> None:
        assert self.side is not None
        fleet = ref(device["belongs_to__application"])
        if not isinstance(commit, str) or fleet is None:
            return
        found = await rows(self.side.engine, f"/release?$select=id&$filter=belongs_to__application eq {int(fleet)} "
                                             f"and commit eq {literal(commit)} and status eq 'success'")
        if found:
            fields["is_running__release"] = found[0]["id"]

    async def patch_v2(self, request: Request) -> Response:
        assert self.side is not None
        side = self.side
        device = await side.reports.device(request.path_params["uuid"])
        if device is None:
            return Response(b"", 200)  # §4.3: a deleted device's report is a no-op
        p = await self._api_key(request)
        if not await self._may_use(p, int(device["id"])):
            raise Unauthorized()
        body = await _body(request)
        local = body.get("local") if isinstance(body, dict) else None
        if not isinstance(local, dict):
            raise EmptyBadRequest("the body must be {\"local\": {…}}")
        if isinstance(local.get("api_port"), str) and local["api_port"].isdigit():
            local = {**local, "api_port": int(local["api_port"])}
        fields, metrics = report.device_fields(local, report.V2_EXTRA)
        name = fields.pop("name", None) or fields.pop("device_name", None)
        fields.pop("device_name", None)
        if name is not None:
            fields["device_name"] = name
        if "should_be_running__release" in local:
            pin = local["should_be_running__release"]
            if pin is not None and (isinstance(pin, bool) or not isinstance(pin, int)):
                raise EmptyBadRequest("should_be_running__release must be an id")
            fields["is_pinned_on__release"] = pin
        if "is_on__commit" in local:
            commit = local["is_on__commit"]
            if commit is None:
                fields["is_running__release"] = None
            else:
                await self._running_release(device, commit, fields)
        installs = await _v2_installs(side, local["apps"]) if "apps" in local else None
        await side.reports.apply(device, fields, metrics, installs, {"__ACTOR_ID": p.actor})
        return Response(b"", 200)

    # --- logs -------------------------------------------------------------------------------

    async def logs(self, request: Request) -> Response:
        assert self.side is not None
        side = self.side
        uuid = request.path_params["uuid"]
        found = await find_device_id(side.engine, uuid)
        if request.method == "POST":
            device_id = await self._log_writer(found)
            side.log_limiter.take(uuid)
            await self._may_write_logs(request, device_id)
            lines = logs.batch(await _body(request), now_ms())
            await side.backplane.append_logs(device_id, lines, side.settings.log_retention)
            return Response(b"", 201)
        p = await self._principal(request)
        if p is None or not p.is_user:
            raise Unauthorized()
        if found is None or not await self._may_use(p, found):
            raise NotFound(f"No device with uuid {uuid}")
        device_id = found
        now = now_ms()
        streaming = request.query_params.get("stream") == "1"
        count = logs.count(request.query_params.get("count"), 0 if streaming else logs.MAX_COUNT)
        since = logs.start(request.query_params.get("start"), now - (86_400_000 if streaming else logs.RETENTION_MS),
                           now)
        if not streaming:
            history = [x for x in await side.backplane.read_logs(device_id, logs.MAX_COUNT) if x["createdAt"] >= since]
            return Response(orjson.dumps(history[-count:] if count else []), 200,
                            {"Cache-Control": "no-cache"}, media_type=JSON)
        follower = await side.backplane.follow_logs(device_id)
        history = [x for x in await side.backplane.read_logs(device_id, count) if x["createdAt"] >= since]
        return StreamingResponse(_stream(history, follower), 200, {"Cache-Control": "no-cache"},
                                 media_type="application/x-ndjson")

    async def log_stream(self, request: Request) -> Response:
        """§7: the supervisor's one long upload of NDJSON lines, usually gzipped, stored
        as they arrive (see `logs.StreamBuffer`), 201 at its end."""
        assert self.side is not None
        side = self.side
        device_id = await self._log_writer(await find_device_id(side.engine, request.path_params["uuid"]))
        await self._may_write_logs(request, device_id)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-ndjson":
            raise UnsupportedMediaType("Streaming requests require Content-Type application/x-ndjson")
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("gzip", "identity", ""):
            raise UnsupportedMediaType(f"Unsupported Content-Encoding {encoding!r}: send gzip or none")
        decoder = logs.StreamDecoder(gzipped=encoding == "gzip")
        buffer = logs.StreamBuffer(
            lambda lines: side.backplane.append_logs(device_id, lines, side.settings.log_retention))
        try:
            async for chunk in request.stream():
                await buffer.add(_with_notice(decoder, decoder.feed(chunk, now_ms())))
            await buffer.add(_with_notice(decoder, decoder.end(now_ms())))
        finally:
            await buffer.close()
        return Response(b"", 201)

    async def _log_writer(self, found: int | None) -> int:
        """The device a log upload is for. One that does not exist (deleted, most likely,
        and still sending) gets its 401 only after a long delay, as the reference does."""
        assert self.side is not None
        if found is None:
            await asyncio.sleep(self.side.settings.deleted_device_logs_delay_ms / 1000)
            raise Unauthorized()
        return found

    async def _may_write_logs(self, request: Request, device_id: int) -> None:
        p = await self._api_key(request)
        if not await self._may_use(p, device_id):
            raise Unauthorized()

    # --- config.json --------------------------------------------------------------------

    async def download_config(self, request: Request) -> Response:
        """§8.1: a user's config.json for a fleet's image, with a new provisioning key."""
        assert self.side is not None
        settings = self.side.settings
        p = await self._principal(request)
        if p is None or not p.is_user:
            raise Unauthorized()
        body = await _body(request, empty=None) if request.method == "POST" else None
        wanted = config_json.options(request.query_params, body)
        c = caller_for(p)
        fleet, device_type = await config_json.fleet_and_type(self.side.engine, c.permissions, c.context, wanted)
        key = await issuing.issue(self.side.engine, p, c.permissions, c.context, issuing.KeyRequest(
            "application", fleet, api_keys.PROVISIONING, wanted.key_name, wanted.key_description,
            issuing.expiry_date(wanted.key_expiry)))
        endpoints = config_json.Endpoints(
            api=settings.public_url or str(request.base_url).rstrip("/"), vpn=settings.vpn_endpoint,
            vpn_port=settings.vpn_port, registry=settings.registry_endpoint, delta=settings.delta_endpoint)
        return _json(config_json.config(wanted, fleet, device_type, p.type_id, key, endpoints), 200)

    # --- device types ---------------------------------------------------------------------

    async def device_types(self, request: Request) -> Response:
        """§9: anyone may ask; the rows are read with the caller's rights."""
        assert self.side is not None
        c = caller_for(await self._principal(request))
        slug = request.path_params.get("slug")
        found = await device_types.manifests(self.side.engine, c.permissions, dict(c.context), slug)
        return _json(found[0] if slug is not None else found, 200)

    # --- the VPN service --------------------------------------------------------------------

    def _vpn_service(self, request: Request) -> None:
        assert self.side is not None
        given = credential(request)
        if given is None:
            raise ApiKeyRequired()
        if not cloudlink.service_key_matches(self.side.settings.vpn_service_api_key, given):
            raise Unauthorized()

    async def vpn_connect(self, request: Request) -> Response:
        assert self.side is not None
        self._vpn_service(request)
        uuids, service = cloudlink.parse(await _body(request))
        client = request.client.host if request.client else "127.0.0.1"
        await cloudlink.connect(self.side.engine, uuids, service, client)
        return Response(b"", 200)

    async def vpn_disconnect(self, request: Request) -> Response:
        assert self.side is not None
        self._vpn_service(request)
        uuids, service = cloudlink.parse(await _body(request))
        await cloudlink.disconnect(self.side.engine, uuids, service)
        return Response(b"", 200)

    async def vpn_auth(self, request: Request) -> Response:
        """§6: may this key open the device's VPN tunnel? Its own device's key only."""
        assert self.side is not None
        found = await find_device_id(self.side.engine, request.path_params["uuid"])
        if found is None:
            raise Unauthorized()
        p = await self._api_key(request)
        if p.actor_type != "device" or p.type_id != found:
            raise Unauthorized()
        return Response(b"", 200)


async def _v2_installs(side: DeviceSide, apps: object) -> list[tuple[int, int, str | None, Any]]:
    """§4.3: `{appId: {services: {imageId: {releaseId, status?, download_progress?}}}}`."""
    if not isinstance(apps, dict):
        raise EmptyBadRequest("apps must be an object")
    out = []
    for app in apps.values():
        services = app.get("services") if isinstance(app, dict) else None
        if not isinstance(services, dict):
            continue
        for image_id, service in services.items():
            release_id = service.get("releaseId") if isinstance(service, dict) else None
            if not str(image_id).isdigit() or not str(release_id).isdigit():
                raise BadRequest("Image and release ids must be numbers")
            found = await rows(side.engine, f"/release_image?$select=id&$filter=image eq {int(image_id)} and "
                                            f"is_part_of__release eq {int(release_id)}")  # type: ignore[arg-type]
            if not found:
                raise Unauthorized()
            progress = service.get("download_progress")
            out.append((int(image_id), int(release_id), report.install_status(service.get("status")),  # type: ignore[arg-type]
                        round(progress) if isinstance(progress, (int, float)) else None))
    return out


async def _stream(history: list[dict[str, Any]], follower: Any):
    try:
        for line in history:
            yield orjson.dumps(line) + b"\n"
        lines = follower.__aiter__()
        while True:
            try:
                line = await asyncio.wait_for(lines.__anext__(), KEEP_ALIVE_S)
            except TimeoutError:
                yield b"\n"
                continue
            yield orjson.dumps(line) + b"\n"
    finally:
        await follower.close()


def _with_notice(decoder: logs.StreamDecoder, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    notice = decoder.suppressed_notice(now_ms())
    return lines if notice is None else [*lines, notice]


def _json(value: Any, status: int) -> Response:
    return Response(orjson.dumps(value), status, {"Cache-Control": "no-cache"}, media_type=JSON)


def _etagged(request: Request, body: bytes, tag: str) -> Response:
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    wanted = request.headers.get("if-none-match")
    if wanted and (wanted == tag or wanted.removeprefix("W/") == tag.removeprefix("W/")):
        return Response(status_code=304, headers=headers)
    return Response(body, 200, headers, media_type=JSON)


async def _body(request: Request, *, empty: Any = ...) -> Any:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise BodyTooLarge(f"Request body too large: the limit is {MAX_BODY // 1024} kB")
    if not data.strip():
        if empty is not ...:
            return empty
        raise EmptyBadRequest("the request has no body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidJSON(f"Invalid JSON in the request body: {e}") from None


__all__ = ["Caller", "DeviceRoutes"]
