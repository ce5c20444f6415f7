"""Variable and tag rules on both databases: names, reserved names and namespaces, values on
one line and within their size (spec/model.md §6.3)."""

from __future__ import annotations

import pytest

from fleetyard.domain.common import RuleViolation

ENV_CHARS = "Environment variable names can only contain alphanumeric characters and underscores."
ENV_RESERVED = "Environment variables RESIN, BALENA, USER are reserved"
ENV_PREFIX = "Environment variables beginning with RESIN_, BALENA_ are reserved."
CONFIG_CHARS = "Configuration variable names can only contain alphanumeric characters, underscores or a colon"
CONFIG_RESERVED = "Configuration variables RESIN, BALENA, USER are reserved"
CONFIG_NAMESPACE = "Configuration variables must be part of one of the following namespaces: RESIN_, BALENA_"
LINE_BREAK = "Variable values cannot contain line break characters"


@pytest.fixture
async def ids(world) -> dict:
    fleet = (await world.fleet("vars"))["id"]
    device = (await world.device(fleet))["id"]
    service = (await world.post("/service", {"application": fleet, "service_name": "main"}))["id"]
    install = (await world.post("/service_install", {"device": device, "installs__service": service}))["id"]
    return {"application": fleet, "device": device, "service": service, "service_install": install}


ENV = [("application_environment_variable", "application"), ("build_environment_variable", "application"),
       ("device_environment_variable", "device"), ("service_environment_variable", "service"),
       ("device_service_environment_variable", "service_install")]
CONFIG = [("application_config_variable", "application"), ("device_config_variable", "device")]


async def refused(world, url: str, body: dict, message: str) -> None:
    with pytest.raises(RuleViolation) as e:
        await world.post(url, body)
    assert (e.value.status, e.value.message) == (400, message)


@pytest.mark.parametrize("resource, parent", ENV)
async def test_environment_variables(world, ids, resource, parent):
    url = f"/{resource}"
    for name, message in (("1ST", ENV_CHARS), ("A-B", ENV_CHARS), ("A B", ENV_CHARS), ("A:B", ENV_CHARS),
                          ("USER", ENV_RESERVED), ("BALENA", ENV_RESERVED), ("RESIN_X", ENV_PREFIX),
                          ("BALENA_X", ENV_PREFIX)):
        await refused(world, url, {parent: ids[parent], "name": name, "value": "v"}, message)
    await refused(world, url, {parent: ids[parent], "name": "OK", "value": "a\nb"}, LINE_BREAK)
    await refused(world, url, {parent: ids[parent], "name": "OK", "value": "x" * 100_001},
                  f"It is necessary that each {resource.replace('_', ' ')} has a value that has a Length (Type) "
                  "that is less than or equal to 100000.")
    row = await world.post(url, {parent: ids[parent], "name": "_Good_1", "value": "x" * 100_000})
    with pytest.raises(RuleViolation, match=LINE_BREAK):
        await world.patch(f"{url}({row['id']})", {"value": "a\r\nb"})
    with pytest.raises(RuleViolation, match=ENV_PREFIX):
        await world.patch(f"{url}({row['id']})", {"name": "RESIN_"})


@pytest.mark.parametrize("resource, parent", CONFIG)
async def test_configuration_variables(world, ids, resource, parent):
    url = f"/{resource}"
    for name, message in ((":X", CONFIG_CHARS), ("9X", CONFIG_CHARS), ("A-B", CONFIG_CHARS),
                          ("RESIN", CONFIG_RESERVED), ("USER", CONFIG_RESERVED), ("POLL", CONFIG_NAMESPACE),
                          ("balena_x", CONFIG_NAMESPACE)):
        await refused(world, url, {parent: ids[parent], "name": name, "value": "v"}, message)
    await refused(world, url, {parent: ids[parent], "name": "BALENA_X", "value": "a\nb"}, LINE_BREAK)
    for name in ("BALENA_SUPERVISOR_POLL_INTERVAL", "RESIN_HOST_CONFIG_gpu_mem", "BALENA_HOST_CONFIG_dtoverlay:x"):
        await world.post(url, {parent: ids[parent], "name": name, "value": "1"})


@pytest.mark.parametrize("resource, parent", [("application_tag", "application"), ("device_tag", "device"),
                                              ("release_tag", "release")])
async def test_tags(world, ids, resource, parent):
    if parent == "release":
        ids["release"] = (await world.release(ids["application"]))["id"]
    url = f"/{resource}"
    for key, message in (("two words", "Tag keys cannot contain whitespace."),
                         ("tab\tkey", "Tag keys cannot contain whitespace."),
                         ("io.resin.x", "Tag keys beginning with io.resin. are reserved."),
                         ("io.balena.x", "Tag keys beginning with io.balena. are reserved.")):
        await refused(world, url, {parent: ids[parent], "tag_key": key, "value": "v"}, message)
    row = await world.post(url, {parent: ids[parent], "tag_key": "io.example.x", "value": "multi\nline"})
    with pytest.raises(RuleViolation, match="whitespace"):
        await world.patch(f"{url}({row['id']})", {"tag_key": "a b"})


async def test_a_device_tag_value_has_a_size_limit(world, ids):
    await world.post("/device_tag", {"device": ids["device"], "tag_key": "big", "value": "x" * 10_000})
    await refused(world, "/device_tag", {"device": ids["device"], "tag_key": "bigger", "value": "x" * 10_001},
                  "It is necessary that each device tag has a value that has a Length (Type) that is less than "
                  "or equal to 10000.")
