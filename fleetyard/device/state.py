"""Target state: what a device should run, built from the database for one device or one
fleet (spec/device-api.md §3).

Part of the device side. `load_device` reads everything the state depends on, as the
server; `v3`, `v2` and `fleet_v3` shape it. The apps are the supervisor's (when the device
has a target supervisor release), the host OS's (a target host-OS release) and the
device's fleet, always. A service's environment merges, later winning: the image's, the
app's fleet's, the service's, the device's, then the device's for that service; labels
are the image's then the service's. The `config` is the fleet's config variables, then
the device's, without the UI ones, with the poll interval forced to at least the minimum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fleetyard.device.common import literal, ref, rows
from fleetyard.device.settings import DeviceSettings, parse_int
from fleetyard.odata.engine import Engine

POLL = "RESIN_SUPERVISOR_POLL_INTERVAL"
HIDDEN_CONFIG = re.compile(r"^(BALENA|RESIN)_UI")
CONFIG_LABELS = (  # ConfigurationVarsToLabels
    ("RESIN_SUPERVISOR_UPDATE_STRATEGY", "io.resin.update.strategy"),
    ("RESIN_SUPERVISOR_HANDOVER_TIMEOUT", "io.resin.update.handover-timeout"),
)
HOST_LABELS = {"io.balena.image.store": "root"}

DEVICE_FIELDS = ("id,uuid,device_name,actor,belongs_to__application,is_pinned_on__release,"
                 "should_be_running__release,should_be_managed_by__release,should_be_operated_by__release")
_VALUES = "($select=name,value)"
_RELEASE = (
    "$select=id,commit,composition,belongs_to__application"
    "&$expand=release_image($select=id"
    ";$expand=image($select=id,is_stored_at__image_location,content_hash,contract"
    f";$expand=is_a_build_of__service($select=id,service_name;$expand=service_label($select=label_name,value),"
    f"service_environment_variable{_VALUES})),"
    f"image_label($select=label_name,value),image_environment_variable{_VALUES})"
)


@dataclass
class App:
    """One app of a target state: its fleet, its release (if any) and their variables."""

    id: int
    uuid: str
    name: str
    is_host: bool
    kind: str
    release: dict[str, Any] | None
    env: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)  # only the device's own fleet's


@dataclass
class DeviceState:
    """What a device's target state is made of, read once and shaped per version."""

    device: dict[str, Any]
    supervisor: App | None
    host: App | None
    fleet: App | None
    device_env: dict[str, str]
    device_config: dict[str, str]
    service_env: dict[int, dict[str, str]]  # service id → the device's values for it
    config: dict[str, str]
    poll_interval_ms: int

    @property
    def id(self) -> int:
        return int(self.device["id"])


def _pairs(items: list[dict[str, Any]], key: str = "name") -> dict[str, str]:
    return {row[key]: row["value"] for row in items}


async def _app(engine: Engine, fleet_id: int, release_id: int | None, *, config: bool) -> App:
    select = "id,uuid,app_name,is_host,is_of__class"
    expand = f"application_environment_variable{_VALUES}"
    if config:
        expand += f",application_config_variable{_VALUES}"
    (row,) = await rows(engine, f"/application({fleet_id})?$select={select}&$expand={expand}")
    release = None
    if release_id is not None:
        found = await rows(engine, f"/release({release_id})?{_RELEASE}")
        release = found[0] if found else None
    return App(row["id"], row["uuid"], row["app_name"], bool(row["is_host"]), row["is_of__class"], release,
               _pairs(row["application_environment_variable"]),
               _pairs(row.get("application_config_variable", [])))


async def _app_of_release(engine: Engine, release_id: object) -> App | None:
    if release_id is None:
        return None
    found = await rows(engine, f"/release({int(release_id)})?$select=belongs_to__application")  # type: ignore[call-overload]
    if not found:
        return None
    return await _app(engine, int(ref(found[0]["belongs_to__application"])), int(release_id), config=False)  # type: ignore[call-overload]


def target_config(fleet: dict[str, str], device: dict[str, str], settings: DeviceSettings) -> dict[str, str]:
    """§3.2 `config`: the fleet's, the device's over it, no UI variables, the poll interval
    at least the minimum (only the RESIN_ name: a BALENA_ one passes untouched)."""
    merged = {**fleet, **device}
    config = {k: v for k, v in merged.items() if not HIDDEN_CONFIG.match(k) and k != "RESIN_HOST_LOG_TO_DISPLAY"}
    config[POLL] = str(settings.poll_interval(config.get(POLL)))
    return config


async def load_device(engine: Engine, uuid: str, settings: DeviceSettings) -> DeviceState | None:
    """Everything a device's target state depends on; None for no such device."""
    found = await rows(engine, f"/device?$select={DEVICE_FIELDS}&$filter=uuid eq {literal(uuid)}"
                               f"&$expand=device_environment_variable{_VALUES},device_config_variable{_VALUES}")
    if not found:
        return None
    device = found[0]
    fleet_id = ref(device["belongs_to__application"])
    target = ref(device["should_be_running__release"])
    fleet = None if fleet_id is None else await _app(
        engine, int(fleet_id), None if target is None else int(target), config=True)
    supervisor = await _app_of_release(engine, ref(device["should_be_managed_by__release"]))
    host = await _app_of_release(engine, ref(device["should_be_operated_by__release"]))
    service_env: dict[int, dict[str, str]] = {}
    for row in await rows(engine, f"/device_service_environment_variable?$select=name,value"
                                  f"&$filter=service_install/any(si:si/device eq {int(device['id'])})"
                                  "&$expand=service_install($select=installs__service)"):
        service = int(ref(row["service_install"][0]["installs__service"]))
        service_env.setdefault(service, {})[row["name"]] = row["value"]
    device_config = _pairs(device["device_config_variable"])
    config = target_config(fleet.config if fleet else {}, device_config, settings)
    return DeviceState(device, supervisor, host, fleet, _pairs(device["device_environment_variable"]),
                       device_config, service_env, config, parse_int(config[POLL]))


async def load_fleet(engine: Engine, fleet_uuid: str, commit: str | None,
                     settings: DeviceSettings) -> tuple[App, dict[str, str]] | None:
    """§3.4: a fleet's state, at its target release or at the successful release `commit`."""
    found = await rows(engine, f"/application?$select=id,should_be_running__release"
                               f"&$filter=uuid eq {literal(fleet_uuid)}")
    if not found:
        return None
    fleet_id = int(found[0]["id"])
    release_id = ref(found[0]["should_be_running__release"])
    if commit is not None:
        releases = await rows(engine, f"/release?$select=id&$filter=belongs_to__application eq {fleet_id} "
                                      f"and commit eq {literal(commit)} and status eq 'success'")
        if not releases:
            return None
        release_id = releases[0]["id"]
    app = await _app(engine, fleet_id, None if release_id is None else int(release_id), config=True)
    return app, target_config(app.config, {}, settings)


# --- shaping --------------------------------------------------------------------------------


def _image_name(image: dict[str, Any]) -> str:
    location = image["is_stored_at__image_location"]
    if image.get("content_hash"):
        location += "@" + image["content_hash"]
    return location.lower()


def _services(app: App, state: DeviceState | None, config: dict[str, str], *, host: bool) -> list[dict[str, Any]]:
    """The release's services, each with its merged environment and labels."""
    release = app.release or {}
    composition = release.get("composition") or {}
    composed = composition.get("services") or {} if isinstance(composition, dict) else {}
    out = []
    for ri in release.get("release_image", []):
        (image,) = ri["image"]
        (service,) = image["is_a_build_of__service"]
        env = {**_pairs(ri["image_environment_variable"]), **app.env,
               **_pairs(service["service_environment_variable"])}
        labels = {**HOST_LABELS} if host else {}
        labels.update(_pairs(ri["image_label"], "label_name"))
        labels.update(_pairs(service["service_label"], "label_name"))
        if state is not None:
            env.update(state.device_env)
            env.update(state.service_env.get(int(service["id"]), {}))
        for var, label in CONFIG_LABELS:
            if var in config and label not in labels:
                labels[label] = config[var]
        entry: dict[str, Any] = {"id": service["id"], "service_name": service["service_name"],
                                 "image_id": image["id"], "image": _image_name(image),
                                 "environment": env, "labels": labels}
        if image.get("contract") is not None:
            entry["contract"] = image["contract"]
        comp = composed.get(service["service_name"]) if isinstance(composed, dict) else None
        if isinstance(comp, dict):
            entry["composition"] = {k: v for k, v in comp.items() if k != "build"}
        out.append(entry)
    return sorted(out, key=lambda s: s["service_name"])


def _v3_app(app: App, state: DeviceState | None, config: dict[str, str], *, host: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": app.id, "name": app.name, "is_host": app.is_host, "class": app.kind}
    if app.release is not None:
        release: dict[str, Any] = {"id": app.release["id"]}
        services = _services(app, state, config, host=host)
        if services:
            release["services"] = {
                s["service_name"]: {k: v for k, v in s.items() if k != "service_name"} for s in services}
        composition = app.release.get("composition")
        if isinstance(composition, dict):
            for part in ("networks", "volumes"):
                if part in composition:
                    release[part] = composition[part]
        body["releases"] = {app.release["commit"]: release}
    return body


def v3(state: DeviceState) -> dict[str, Any]:
    """`GET /device/v3/:uuid/state` (§3.2)."""
    apps: dict[str, Any] = {}
    if state.supervisor is not None:
        apps[state.supervisor.uuid] = _v3_app(state.supervisor, state, {})
    if state.host is not None:
        apps[state.host.uuid] = _v3_app(state.host, state, {}, host=True)
    if state.fleet is not None:
        apps[state.fleet.uuid] = _v3_app(state.fleet, state, state.config)
    return {state.device["uuid"]: {"name": state.device["device_name"], "apps": apps, "config": state.config}}


def v2(state: DeviceState) -> dict[str, Any]:
    """`GET /device/v2/:uuid/state` (§3.3): the device's fleet only, services by id."""
    apps: dict[str, Any] = {}
    app = state.fleet
    if app is not None:
        body: dict[str, Any] = {"name": app.name}
        services: dict[str, Any] = {}
        if app.release is not None:
            body["commit"] = app.release["commit"]
            body["releaseId"] = app.release["id"]
            for s in _services(app, state, state.config, host=False):
                entry = dict(s.get("composition") or {})
                entry.update(imageId=s["image_id"], serviceName=s["service_name"], image=s["image"],
                             running=True, environment=s["environment"], labels=s["labels"])
                if "contract" in s:
                    entry["contract"] = s["contract"]
                services[str(s["id"])] = entry
        composition = (app.release or {}).get("composition")
        composition = composition if isinstance(composition, dict) else {}
        body.update(services=services, volumes=composition.get("volumes") or {},
                    networks=composition.get("networks") or {})
        apps[str(app.id)] = body
    return {"local": {"name": state.device["device_name"], "config": state.config, "apps": apps},
            "dependent": {"apps": {}, "devices": {}}}


def fleet_v3(app: App, config: dict[str, str]) -> dict[str, Any]:
    """`GET /device/v3/fleet/:uuid/state` (§3.4): no device-level values."""
    return {app.uuid: {"name": app.name, "apps": {app.uuid: _v3_app(app, None, config)}, "config": config}}
