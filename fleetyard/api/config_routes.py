"""`GET /config` and `GET /config/vars`: what the balena clients read about the server.

Beside the OData route in the HTTP stage; no credentials needed (decisions.md, the guest
role). `/config` has the keys the SDKs' `config.getAll()` type names (clients.md §4.2);
`/config/vars` is the variable-name schema the CLI's `env set` reads to tell a config
variable from an environment variable, with the reference's lists (device-api.md §8.3),
the reserved names coming from the rules that enforce them (domain/variables).
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fleetyard.domain.variables import NAMESPACES, RESERVED

DEVICE_URLS_BASE_VAR = "FLEETYARD_DEVICE_URLS_BASE"
POLL_INTERVAL_MS = 600_000  # the supervisor's default and minimum (device-api.md §4)


def routes() -> list[Route]:
    return [
        Route("/config", config, methods=["GET"]),
        Route("/config/vars", config_vars, methods=["GET"]),
    ]


async def config(request: Request) -> Response:
    base = f"{request.url.scheme}://{request.url.netloc}"
    return _json({
        "deployment": None,
        # Device public URLs are https://<uuid>.<deviceUrlsBase>: a self-hosted server has
        # none unless its operator proxies them; the request's host is the honest default.
        "deviceUrlsBase": os.environ.get(DEVICE_URLS_BASE_VAR) or request.url.hostname or "localhost",
        "adminUrl": base,
        "apiUrl": base,
        "actionsUrl": base,
        "gitServerUrl": "",
        "pubnub": {"subscribe_key": "", "publish_key": ""},
        "DEVICE_ONLINE_ICON": "",
        "DEVICE_OFFLINE_ICON": "",
        "signupCodeRequired": False,
        "supportedSocialProviders": [],
    })


def _prefixed(*names: str) -> list[str]:
    """Every name under each reserved namespace: RESIN_X, then BALENA_X (the reference's order)."""
    return [ns + name for ns in NAMESPACES for name in names]


_BOOL = ["false", "true"]
SUPERVISOR_VARS: dict[str, dict[str, Any]] = {
    "RESIN_SUPERVISOR_CONNECTIVITY_CHECK": {
        "enum": _BOOL, "description": "Enable / Disable VPN connectivity check", "default": "true"},
    "RESIN_SUPERVISOR_LOG_CONTROL": {
        "enum": _BOOL, "description": "Enable / Disable logs from being sent to balena", "default": "true"},
    "RESIN_SUPERVISOR_POLL_INTERVAL": {
        "type": "integer", "description": "Define the balena API poll interval in milliseconds",
        "default": POLL_INTERVAL_MS, "minimum": POLL_INTERVAL_MS, "maximum": 86_400_000},
    "RESIN_SUPERVISOR_VPN_CONTROL": {"enum": _BOOL, "description": "Enable / Disable VPN", "default": "true"},
    "RESIN_SUPERVISOR_PERSISTENT_LOGGING": {
        "enum": _BOOL, "default": "false",
        "description": "Enable persistent logging. Only supported by supervisor versions >= v7.15.0."},
    "RESIN_SUPERVISOR_INSTANT_UPDATE_TRIGGER": {
        "enum": _BOOL, "default": "true",
        "description": "Enable / Disable triggering updates instantly on startup or after pushing a release. "
                       "Only supported by supervisor versions >= v9.13.0."},
    "RESIN_OVERRIDE_LOCK": {
        "type": "integer", "enum": [0, 1], "default": 0,
        "description": "Override the update lock if your app locked updates but is stuck in an invalid state."},
    "BALENA_SUPERVISOR_HARDWARE_METRICS": {
        "enum": _BOOL, "default": "true",
        "description": "Enable / Disable reporting device metrics such as CPU usage for bandwidth "
                       "conservation. Only supported by supervisor versions >= v12.8.0."},
}

# Boot-config variables of the Raspberry Pi family (config.txt), offered for those types only.
RASPBERRY_PI_TYPES = frozenset({
    "fincm3", "npe-x500-m3", "raspberry-pi", "raspberry-pi2", "raspberrypi3", "raspberrypi3-64",
    "raspberrypi4-64", "raspberrypi400-64", "raspberrypicm4-ioboard", "raspberrypi5", "revpi-core-3"})
RASPBERRY_PI_VARS: dict[str, dict[str, Any]] = {
    "RESIN_HOST_CONFIG_disable_splash": {
        "enum": ["0", "1"], "description": "Enable / Disable the rainbow splash screen", "default": "1"},
    "RESIN_HOST_CONFIG_dtparam": {
        "type": "string", "description": "Define DT parameters", "default": '"i2c_arm=on","spi=on","audio=on"'},
    "RESIN_HOST_CONFIG_dtoverlay": {
        "type": "string", "description": "Define DT overlays", "examples": ['"i2c-rtc,ds1307","lirc-rpi"']},
    "RESIN_HOST_CONFIG_enable_uart": {"enum": ["0", "1"], "description": "Enable / Disable UART", "default": "1"},
    "RESIN_HOST_CONFIG_gpu_mem": {
        "type": "integer", "description": "Define device GPU memory in megabytes.", "default": 16},
}


async def config_vars(request: Request) -> Response:
    properties = dict(SUPERVISOR_VARS)
    if request.query_params.get("deviceType") in RASPBERRY_PI_TYPES:
        properties.update(RASPBERRY_PI_VARS)
    return _json({
        "reservedNames": list(RESERVED),
        "reservedNamespaces": list(NAMESPACES),
        "invalidRegex": "/^\\d|\\W/",
        "configVarInvalidRegex": "/^\\d|[^A-Za-z0-9_:]/",
        "whiteListedNames": _prefixed(
            "APP_RESTART_POLICY", "APP_RESTART_RETRIES", "DEPENDENT_DEVICES_HOOK_ADDRESS", "OVERRIDE_LOCK",
            "SUPERVISOR_CONNECTIVITY_CHECK", "SUPERVISOR_HANDOVER_TIMEOUT", "SUPERVISOR_LOCAL_MODE",
            "SUPERVISOR_LOG_CONTROL", "SUPERVISOR_POLL_INTERVAL", "SUPERVISOR_UPDATE_STRATEGY",
            "SUPERVISOR_VPN_CONTROL", "SUPERVISOR_PERSISTENT_LOGGING",
            "SUPERVISOR_INSTANT_UPDATE_TRIGGER", "SUPERVISOR_HARDWARE_METRICS"),
        "whiteListedNamespaces": _prefixed("HOST_", "UI_"),
        "blackListedNames": _prefixed(
            "RESTART", "DEVICE_RESTART", "SUPERVISOR_OVERRIDE_LOCK", "SUPERVISOR_NATIVE_LOGGER",
            "HOST_LOG_TO_DISPLAY"),
        "configVarSchema": {
            "type": "object", "$schema": "http://json-schema.org/draft-06/schema#", "properties": properties},
    })


def _json(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), 200, {"Cache-Control": "no-cache"},
                    media_type="application/json; charset=utf-8")
