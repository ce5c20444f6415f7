"""Current-state reports: `PATCH /device/v3/state` and `/device/v2/:uuid/state`
(spec/device-api.md §4).

Part of the device side. A report updates the device's fields (only those that changed:
an unchanged report writes nothing), its running release, its update status, and one
image install per reported service; installs it no longer reports are marked deleted.
Everything of one report commits in one transaction, through the engine, so the device
rules (connectivity and update events, history) run on it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fleetyard.device.common import (
    ALL,
    EmptyBadRequest,
    Unauthorized,
    literal,
    ref,
    rows,
)
from fleetyard.model.balena.devices import IMAGE_INSTALL_STATUSES
from fleetyard.odata.engine import Engine
from fleetyard.odata.hooks import committing
from fleetyard.odata.values import iso

STR, STR_NULL, NUM, NUM_NULL, BOOL = "str", "str?", "num", "num?", "bool"
V3_FIELDS = {
    "status": STR, "is_online": BOOL, "os_version": STR_NULL, "os_variant": STR_NULL, "supervisor_version": STR,
    "provisioning_progress": NUM_NULL, "provisioning_state": STR_NULL, "ip_address": STR, "mac_address": STR,
    "api_port": NUM, "api_secret": STR_NULL, "cpu_id": STR_NULL, "is_undervolted": BOOL,
    "storage_block_device": STR_NULL,
}
METRICS = ("memory_usage", "memory_total", "storage_usage", "storage_total", "cpu_temp", "cpu_usage")
V2_EXTRA = {"name": STR, "device_name": STR, "note": STR_NULL, "download_progress": NUM_NULL}
MAX_INT = 2**31 - 1
METRICS_INTERVAL_S = 60.0
PROGRESS_INTERVAL_S = 30.0
CUT = {"status": 50, "os_version": 70, "supervisor_version": 20, "api_secret": 64, "note": 1_000_000}
CUT_AT_SPACES = {"ip_address": 2000, "mac_address": 900}
UPDATE_ORDER = ("rejected", "aborted", "downloading", "downloaded", "applying changes", "done")
INTEGERS = {"provisioning_progress", "api_port", "download_progress", *METRICS}


def _typed(name: str, value: object, kind: str) -> object:
    """The reference's schema: a wrong type is a 400 with an empty body."""
    if value is None and kind.endswith("?"):
        return None
    base = kind.rstrip("?")
    ok = (isinstance(value, str) if base == "str" else isinstance(value, bool) if base == "bool"
          else isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise EmptyBadRequest(f"{name} has the wrong type")
    return value


def _cut_at_spaces(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit + 1]
    return cut[:cut.rfind(" ")] if " " in cut else text[:limit]


def device_fields(body: dict[str, Any], extra: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields, metrics) a report asks for, cleaned as §4.2 says."""
    kinds = {**V3_FIELDS, **(extra or {})}
    fields: dict[str, Any] = {}
    for name, kind in kinds.items():
        if name in body:
            fields[name] = _typed(name, body[name], kind)
    metrics = {name: _typed(name, body[name], NUM_NULL) for name in METRICS if name in body}
    if fields.get("os_variant") not in (None, "prod", "dev"):
        del fields["os_variant"]
    cpu = fields.get("cpu_id")
    if isinstance(cpu, str):
        if all(0x20 <= ord(ch) <= 0x7E for ch in cpu):
            fields["cpu_id"] = cpu.lower()
        else:
            del fields["cpu_id"]
    for name, limit in CUT.items():
        if isinstance(fields.get(name), str) and len(fields[name]) > limit:
            fields[name] = fields[name][:limit]
    for name, limit in CUT_AT_SPACES.items():
        if isinstance(fields.get(name), str):
            fields[name] = _cut_at_spaces(fields[name], limit)
    for name in list(fields) + list(metrics):
        target = fields if name in fields else metrics
        if name in INTEGERS and isinstance(target[name], float):
            target[name] = round(target[name])
    for name, v in metrics.items():
        if isinstance(v, int) and v > MAX_INT:
            metrics[name] = MAX_INT
    return fields, metrics


class Reports:
    """Applies reports; remembers when each device's metrics and progress were written."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._metrics_at: dict[int, float] = {}
        self._progress_at: dict[tuple[int, int], float] = {}

    async def device(self, uuid: str) -> dict[str, Any] | None:
        found = await rows(self.engine, f"/device?$filter=uuid eq {literal(uuid)}&$select=id,uuid,actor,"
                                        "belongs_to__application,is_running__release,update_status,"
                                        + ",".join(list(V3_FIELDS) + list(METRICS) + ["device_name", "note",
                                                                                       "download_progress",
                                                                                       "is_pinned_on__release"]))
        return found[0] if found else None

    async def apply(self, device: dict[str, Any], changes: dict[str, Any], metrics: dict[str, Any],
                    installs: list[tuple[int, int, str | None, Any]] | None, context: dict[str, Any]) -> None:
        """Write one report: `changes` to the device's fields, `metrics` (rate-limited),
        and, when the report listed its apps, `installs` as (image, release, status, progress)."""
        device_id = int(device["id"])
        diff = {k: v for k, v in changes.items() if _differs(device.get(k), v)}
        now = time.monotonic()
        metric_diff = {k: v for k, v in metrics.items() if device.get(k) != v}
        if metric_diff and (diff or now - self._metrics_at.get(device_id, 0.0) >= METRICS_INTERVAL_S):
            diff.update(metric_diff)
            self._metrics_at[device_id] = now
        with committing() as callbacks:
            async with self.engine.db.transaction() as tx:
                if diff:
                    await self.engine.patch(f"/device({device_id})", diff, ALL, context, tx=tx)
                if installs is not None:
                    await self._installs(tx, device_id, installs, context)
        for callback in callbacks:
            done = callback()
            if hasattr(done, "__await__"):
                await done

    async def _installs(self, tx: Any, device_id: int, installs: list[tuple[int, int, str | None, Any]],
                        context: dict[str, Any]) -> None:
        existing = {ref(r["installs__image"]): r for r in await rows(
            self.engine, f"/image_install?$select=id,installs__image,status,download_progress,is_provided_by__release"
                         f"&$filter=device eq {device_id}", tx)}
        now = time.monotonic()
        for image, release, status, progress in installs:
            row = existing.pop(image, None)
            if row is None:
                await self.engine.post("/image_install?returnResource=false", {
                    "device": device_id, "installs__image": image, "install_date": iso(datetime.now(UTC)),
                    "status": status or "Unknown", "download_progress": progress,
                    "is_provided_by__release": release}, ALL, context, tx=tx)
                self._progress_at[(device_id, image)] = now
                continue
            body: dict[str, Any] = {}
            if ref(row["is_provided_by__release"]) != release:
                body["is_provided_by__release"] = release
            if status is not None and row["status"] != status:
                body["status"] = status
            old = row["download_progress"]
            if old != progress and ((old is None) != (progress is None) or progress == 100 or body
                                    or now - self._progress_at.get((device_id, image), 0.0) >= PROGRESS_INTERVAL_S):
                body["download_progress"] = progress
            if body:
                await self.engine.patch(f"/image_install({row['id']})", body, ALL, context, tx=tx)
                if "download_progress" in body:
                    self._progress_at[(device_id, image)] = now
        gone = [r["id"] for r in existing.values() if r["status"] != "deleted"]
        if gone:
            await self.engine.patch(f"/image_install?$filter=id in ({','.join(map(str, gone))})",
                                    {"status": "deleted", "download_progress": None}, ALL, context, tx=tx)


def _differs(current: object, new: object) -> bool:
    return ref(current) != new


def install_status(status: object) -> str | None:
    """A service's reported status, or None for one outside the known list (§4.2 step 8)."""
    return status if isinstance(status, str) and status in IMAGE_INSTALL_STATUSES else None


def lowest_update_status(statuses: list[str]) -> str | None:
    known = [s for s in statuses if s in UPDATE_ORDER]
    return min(known, key=UPDATE_ORDER.index) if known else None


# --- v3 -------------------------------------------------------------------------------------


def _image_matches(image: dict[str, Any], reported: str) -> bool:
    location = image["is_stored_at__image_location"].lower()
    name, _, digest = reported.lower().partition("@")
    return name == location and (not digest or not image.get("content_hash")
                                 or digest == image["content_hash"].lower())


async def v3_installs(engine: Engine, apps: object) -> tuple[list[tuple[int, int, str | None, Any]], dict[str, Any]]:
    """The image installs a v3 report's `apps` describe, and per app uuid its releases'
    ids by commit. A release or image that is not a successful one of that app is a 401."""
    if not isinstance(apps, dict):
        raise EmptyBadRequest("apps must be an object")
    installs: list[tuple[int, int, str | None, Any]] = []
    release_ids: dict[str, Any] = {}
    for app_uuid, app in apps.items():
        if not isinstance(app, dict):
            raise EmptyBadRequest("an app must be an object")
        releases = app.get("releases") or {}
        if not isinstance(releases, dict):
            raise EmptyBadRequest("releases must be an object")
        for commit, release in releases.items():
            if not isinstance(release, dict):
                raise EmptyBadRequest("a release must be an object")
            found = await rows(engine, f"/release?$select=id&$filter=commit eq {literal(commit)} and "
                                       f"status eq 'success' and belongs_to__application/any(a:a/uuid eq "
                                       f"{literal(app_uuid)})&$expand=release_image($select=id;$expand=image("
                                       "$select=id,is_stored_at__image_location,content_hash))")
            if not found:
                raise Unauthorized(f"no successful release {commit} of app {app_uuid}")
            release_id = int(found[0]["id"])
            release_ids.setdefault(app_uuid, {})[commit] = release_id
            images = [ri["image"][0] for ri in found[0]["release_image"]]
            services = release.get("services") or {}
            if not isinstance(services, dict):
                raise EmptyBadRequest("services must be an object")
            for service in services.values():
                if not isinstance(service, dict) or not isinstance(service.get("image"), str):
                    raise EmptyBadRequest("a service must name its image")
                match = [i for i in images if _image_matches(i, service["image"])]
                if not match:
                    raise Unauthorized(f"image {service['image']} is not part of release {commit}")
                progress = service.get("download_progress")
                if progress is not None and not isinstance(progress, (int, float)):
                    raise EmptyBadRequest("download_progress must be a number")
                installs.append((int(match[0]["id"]), release_id, install_status(service.get("status")),
                                 None if progress is None else round(progress)))
    return installs, release_ids


async def fleet_uuid(engine: Engine, fleet_id: object) -> str | None:
    if fleet_id is None:
        return None
    found = await rows(engine, f"/application({int(fleet_id)})?$select=uuid")  # type: ignore[call-overload]
    return found[0]["uuid"] if found else None


async def write_tags(engine: Engine, tags: dict[int, dict[str, str]], context: dict[str, Any]) -> None:
    """§4.4: per device, missing tags created and changed ones updated, in one transaction."""
    with committing() as callbacks:
        async with engine.db.transaction() as tx:
            for device_id, wanted in tags.items():
                have = {r["tag_key"]: r for r in await rows(
                    engine, f"/device_tag?$select=id,tag_key,value&$filter=device eq {device_id}", tx)}
                for key, value in wanted.items():
                    row = have.get(key)
                    if row is None:
                        await engine.post("/device_tag?returnResource=false",
                                          {"device": device_id, "tag_key": key, "value": value}, ALL, context, tx=tx)
                    elif row["value"] != value:
                        await engine.patch(f"/device_tag({row['id']})", {"value": value}, ALL, context, tx=tx)
    for callback in callbacks:
        done = callback()
        if hasattr(done, "__await__"):
            await done
