"""config.json for a device image: GET|POST /download-config (device-api.md §8.1), and a
device registering with the provisioning key it holds."""

from __future__ import annotations

import uuid as uuidlib

from fleetyard.device.settings import DeviceSettings
from tests.device.conftest import FAST, serving


async def test_a_config_json_a_device_can_register_with(client, world):
    r = await client.post("/download-config", headers=world.alice.headers, json={
        "appId": world.fleet, "version": "6.0.13", "network": "ethernet", "appUpdatePollInterval": 15})
    assert r.status_code == 200, r.text
    config = r.json()
    assert config["applicationId"] == world.fleet and config["deviceType"] == "raspberrypi4-64"
    assert config["userId"] == world.alice.id and config["apiEndpoint"] == "http://fleetyard.test"
    assert config["appUpdatePollInterval"] == 15 * 60_000 and config["listenPort"] == 48484
    assert "developmentMode" not in config and "wifiSsid" not in config and "vpnEndpoint" not in config
    # the key in it is a new provisioning key of the fleet: a device boots and registers with it
    uuid = uuidlib.uuid4().hex
    registered = await client.post("/device/register", headers={"Authorization": f"Bearer {config['apiKey']}"},
                                   json={"application": world.fleet, "device_type": config["deviceType"],
                                         "uuid": uuid})
    assert registered.status_code == 201, registered.text
    keys = await world.d("/api_key?$filter=name eq 'Automatically generated provisioning key'"
                         "&$select=name,description,is_of__actor")
    assert [k["description"] for k in keys] == ["Automatically generated for a config file generation"]
    fleet_actor = (await world.one(f"/application({world.fleet})?$select=actor"))["actor"]
    assert keys[0]["is_of__actor"] == fleet_actor
    # each call mints another key
    again = (await client.post("/download-config", headers=world.alice.headers,
                               json={"appId": world.fleet, "version": "6.0.13"})).json()
    assert again["apiKey"] != config["apiKey"] and again["appUpdatePollInterval"] == 60_000


async def test_options_from_the_query_and_the_body(client, world):
    r = await client.get(f"/download-config?appId={world.fleet}&version=5.1.20.dev&network=wifi&wifiSsid=home"
                         "&wifiKey=secret123&provisioningKeyName=line-3", headers=world.alice.headers)
    assert r.status_code == 200, r.text
    config = r.json()
    assert (config["wifiSsid"], config["wifiKey"], config["developmentMode"]) == ("home", "secret123", True)
    # the body wins over the query; another device type whose devices can join the fleet
    # (the fleet is of 64-bit Arm devices: a Jetson may join, a Pi 3 or a NUC may not)
    r = await client.post(f"/download-config?appId=999999&version=1.0.0", headers=world.alice.headers, json={
        "appId": str(world.fleet), "version": "6.0.13", "deviceType": "jetson-orin-nano-devkit-nvme",
        "secureboot": True, "developmentMode": "on"})
    config = r.json()
    assert config["deviceType"] == "jetson-orin-nano-devkit-nvme" and config["installer"] == {"secureboot": True}
    assert config["developmentMode"] is True
    names = {k["name"] for k in await world.d("/api_key?$select=name")}
    assert "line-3" in names


async def test_refusals(client, world):
    h = world.alice.headers
    cases = [
        ({"version": "6.0.13"}, 400, "An appId is required."),
        ({"appId": world.fleet}, 400, "A version is required."),
        ({"appId": world.fleet, "version": "1.2.0"}, 400, None),
        ({"appId": world.fleet, "version": "latest"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "network": "lte"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "network": "wifi"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "appUpdatePollInterval": "often"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "deviceType": "intel-nuc"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "deviceType": "raspberrypi3"}, 400, None),
        ({"appId": world.fleet, "version": "6.0.13", "deviceType": "toaster"}, 400, None),
        ({"appId": 999_999, "version": "6.0.13"}, 404, None),
    ]
    for body, status, message in cases:
        r = await client.post("/download-config", headers=h, json=body)
        assert r.status_code == status, (body, r.text)
        if message is not None:
            assert r.json() == message
    r = await client.post("/download-config", headers={**h, "Content-Type": "application/json"}, content=b"[1]")
    assert r.status_code == 400
    # another organization's fleet does not exist for bob; devices and anonymous callers get nothing
    assert (await client.post("/download-config", headers=world.bob.headers,
                              json={"appId": world.fleet, "version": "6.0.13"})).status_code == 404
    assert (await client.post("/download-config", json={"appId": world.fleet, "version": "6.0.13"})).status_code == 401
    provisioning = {"Authorization": f"Bearer {world.provisioning_key}"}
    assert (await client.post("/download-config", headers=provisioning,
                              json={"appId": world.fleet, "version": "6.0.13"})).status_code == 401
    assert await world.d("/api_key/$count?$filter=name eq 'Automatically generated provisioning key'") == 0


async def test_the_endpoints_an_operator_configures(world):
    settings = DeviceSettings(**{**FAST.__dict__, "public_url": "https://fleet.example.com",
                                 "vpn_endpoint": "vpn.fleet.example.com", "vpn_port": 1194,
                                 "registry_endpoint": "registry.fleet.example.com"})
    async with serving(world.engine, settings) as client:
        config = (await client.post("/download-config", headers=world.alice.headers,
                                    json={"appId": world.fleet, "version": "6.0.13"})).json()
    assert config["apiEndpoint"] == "https://fleet.example.com"
    assert (config["vpnEndpoint"], config["vpnPort"], config["registryEndpoint"]) == (
        "vpn.fleet.example.com", 1194, "registry.fleet.example.com")
    assert "deltaEndpoint" not in config
