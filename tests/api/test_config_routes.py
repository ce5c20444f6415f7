"""`GET /config` and `GET /config/vars`: the keys the SDKs read, without credentials."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


async def test_config_has_what_the_sdks_read(client) -> None:
    r = await client.get("/config")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    for key in ("deployment", "deviceUrlsBase", "adminUrl", "gitServerUrl", "DEVICE_ONLINE_ICON",
                "DEVICE_OFFLINE_ICON", "signupCodeRequired", "supportedSocialProviders"):
        assert key in body
    assert body["deviceUrlsBase"] == "fleetyard.test" and "deviceTypes" not in body


async def test_config_vars_tells_config_variables_from_environment_variables(client) -> None:
    body = (await client.get("/config/vars")).json()
    assert body["reservedNames"] == ["RESIN", "BALENA", "USER"]
    assert body["reservedNamespaces"] == ["RESIN_", "BALENA_"]
    assert "BALENA_SUPERVISOR_POLL_INTERVAL" in body["whiteListedNames"]
    assert body["whiteListedNamespaces"] == ["RESIN_HOST_", "RESIN_UI_", "BALENA_HOST_", "BALENA_UI_"]
    schema = body["configVarSchema"]
    assert schema["properties"]["RESIN_SUPERVISOR_POLL_INTERVAL"]["minimum"] == 600_000
    assert "RESIN_HOST_CONFIG_gpu_mem" not in schema["properties"]
    # The JS SDK turns invalidRegex back into a RegExp: a name starting with a digit is invalid.
    pattern = body["invalidRegex"].strip("/")
    assert re.search(pattern, "1ABC") and not re.search(pattern, "MY_VAR")


async def test_config_vars_of_a_device_type_add_its_boot_variables(client) -> None:
    pi = (await client.get("/config/vars?deviceType=raspberrypi4-64")).json()["configVarSchema"]
    assert pi["properties"]["RESIN_HOST_CONFIG_gpu_mem"]["type"] == "integer"
    amd = (await client.get("/config/vars?deviceType=generic-amd64")).json()["configVarSchema"]
    assert "RESIN_HOST_CONFIG_gpu_mem" not in amd["properties"]
