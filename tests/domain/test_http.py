"""The rules' error shapes over HTTP, on both databases: each refusal is its status with
the message as a JSON string body (spec/model.md §6.1) and the stage's code in
`X-Fleetyard-Error`; and the seed page's fleet writes, sent as written (with the comma)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from fleetyard.api import create_app
from fleetyard.api.callers import Caller
from fleetyard.odata.permissions import Permissions
from tests.api.conftest import engine_factory, serving

ALICE = Caller(Permissions.all(), {"__ACTOR_ID": 1})


async def superuser(request) -> Caller:
    return ALICE


@pytest.fixture
async def client(world) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(engine_factory(world.engine), caller=superuser)) as c:
        yield c


def refused(response: httpx.Response, status: int, code: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert orjson.loads(response.content) == message
    assert response.headers["x-fleetyard-error"] == code


async def test_rule_violations_are_400_json_strings(client):
    r = await client.post("/v7/application", json={"app_name": "bad name", "organization": 1, "is_for__device_type": 1})
    refused(r, 400, "domain.rule", "App name may only contain [a-zA-Z0-9_-].")
    r = await client.post("/v7/application", json={"device_type": "raspberrypi4-64"})
    refused(r, 400, "domain.rule",
            '"organization", "app_name" and "is_for__device_type" are required to create a fleet')
    r = await client.post("/v7/device", json={"is_of__device_type": 1, "uuid": "XYZ"})
    refused(r, 400, "domain.rule", "Device UUID must be a 32 or 62 character long lower case hex string.")


async def test_not_found_forbidden_and_conflict(client):
    refused(await client.delete("/v7/application(99)"), 404, "domain.not_found", "Application(s) not found.")
    assert (await client.delete("/v7/application?$filter=id eq 99")).status_code == 200
    fleet = await client.post("/v7/application", json={"app_name": "first", "organization": 1,
                                                       "is_for__device_type": 1})
    assert fleet.status_code == 201
    r = await client.post("/v7/application", json={"app_name": "FIRST", "organization": 1, "is_for__device_type": 1})
    refused(r, 409, "write.constraint", '"slug" must be unique.')
    device = (await client.post("/v7/device", json={"is_of__device_type": 1})).json()
    r = await client.patch(f"/v7/device({device['id']})", json={"is_web_accessible": True})
    refused(r, 403, "domain.forbidden", "The application type does not support web url.")
    r = await client.patch(f"/v7/device({device['id']})", json={"belongs_to__application": 99})
    refused(r, 404, "domain.not_found", "Application doesn't exist or you have no access to it.")


async def test_the_seed_pages_fleet_writes(world, client):
    r = await client.post("/v7/application", json={"app_name": "seedfleet", "organization": 1,
                                                   "is_for__device_type": 1})
    assert r.status_code == 201
    fleet = r.json()
    assert (fleet["slug"], fleet["should_track_latest_release"]) == ("acme/seedfleet", True)
    old = (await world.release(fleet["id"]))["id"]
    new = (await world.release(fleet["id"], start_timestamp="2024-06-01T10:00:00.000Z"))["id"]
    assert await world.target(fleet["id"]) == new
    body = f'{{"should_be_running__release": "{old}", "should_track_latest_release": false}}'
    r = await client.patch(f"/v7/application({fleet['id']})", content=body,
                           headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and await world.target(fleet["id"]) == old
    r = await client.patch("/v7/application(slug='acme/seedfleet')", content=body.replace(str(old), str(new)),
                           headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and await world.target(fleet["id"]) == new
    await client.patch(f"/v7/application({fleet['id']})", json={"should_track_latest_release": "false"})
    await client.patch(f"/v7/application({fleet['id']})", json={"should_be_running__release": old})
    assert await world.target(fleet["id"]) == old
    r = await client.patch(f"/v7/application({fleet['id']})", json={"should_track_latest_release": "true"})
    assert r.status_code == 200 and await world.target(fleet["id"]) == new
    r = await client.get("/v7/application(slug='acme/seedfleet')?$select=should_be_running__release")
    assert r.json() == {"d": [{"should_be_running__release": {"__id": new}}]}
    assert (await client.delete(f"/v7/application({fleet['id']})")).status_code == 200
    assert await world.d("/release/$count") == 0
