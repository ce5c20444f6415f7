"""Device logs: POST /device/v2/:uuid/logs, GET the latest lines, and ?stream=1
(device-api.md §7)."""

from __future__ import annotations

import asyncio

import orjson

from fleetyard.device.settings import DeviceSettings
from tests.device.conftest import FAST, register, serving


def lines(*messages: str, **extra) -> list[dict]:
    return [{"message": m, "timestamp": 1_700_000_000_000 + i, **extra} for i, m in enumerate(messages)]


async def test_post_and_read_logs(client, world):
    device = await register(client, world)
    url = f"/device/v2/{device.uuid}/logs"
    r = await client.post(url, headers=device.headers, json=lines("one", "two", serviceId=world.service))
    assert (r.status_code, r.content) == (201, b"")
    assert (await client.post(url, headers=device.headers, json=[])).status_code == 201
    assert (await client.post(url, headers=device.headers,
                              json=lines("dep", uuid="x" * 32))).status_code == 201  # a dependent's: skipped
    r = await client.get(url, headers=world.alice.headers)
    assert r.status_code == 200
    got = r.json()
    assert [x["message"] for x in got] == ["one", "two"]
    assert set(got[0]) == {"message", "timestamp", "isSystem", "isStdErr", "serviceId", "createdAt"}
    assert got[0]["isStdErr"] is False and got[0]["serviceId"] == world.service
    assert [x["message"] for x in (await client.get(url + "?count=1", headers=world.alice.headers)).json()] == ["two"]


async def test_log_rules(client, world):
    device = await register(client, world)
    other = await register(client, world)
    url = f"/device/v2/{device.uuid}/logs"
    r = await client.post(url, headers=device.headers, json=lines(*"abcdefghijk"))
    assert (r.status_code, r.json()) == (400, "Batches cannot include more than 10 logs")
    assert (await client.post(url, headers=device.headers,
                              json=[{"message": "x", "timestamp": 1, "is_stderr": True}])).status_code == 400
    assert (await client.post(url, headers=device.headers, json=[{"message": 1, "timestamp": 1}])).status_code == 400
    assert (await client.post(url, headers=other.headers, json=lines("x"))).status_code == 401
    assert (await client.post(url, headers=world.alice.headers, json=lines("x"))).json() == {"error": "API key required"}
    assert (await client.post("/device/v2/" + "f" * 32 + "/logs", headers=device.headers,
                              json=lines("x"))).status_code == 401
    assert (await client.get(url, headers=device.headers)).status_code == 401  # devices do not read logs
    r = await client.get(url, headers=world.bob.headers)
    assert (r.status_code, r.json()) == (404, f"No device with uuid {device.uuid}")


async def test_rate_limit(client, world):
    device = await register(client, world)
    url = f"/device/v2/{device.uuid}/logs"
    statuses = [(await client.post(url, headers=device.headers, json=lines("x"))).status_code for _ in range(16)]
    assert statuses[:14] == [201] * 14 and statuses[14] == 429
    r = await client.post(url, headers=device.headers, json=lines("x"))
    assert r.json() == "Too Many Requests" and int(r.headers["retry-after"]) >= 1


async def test_retention_is_bounded(world):
    async with serving(world.engine, DeviceSettings(min_poll_interval_ms=300, heartbeat_grace_ms=200,
                                                    log_retention=25)) as client:
        device = await register(client, world)
        client.app.state.devices.log_limiter.points = 1000
        for batch in range(5):
            r = await client.post(f"/device/v2/{device.uuid}/logs", headers=device.headers,
                                  json=lines(*(f"{batch}-{i}" for i in range(10))))
            assert r.status_code == 201
        got = (await client.get(f"/device/v2/{device.uuid}/logs?count=all", headers=world.alice.headers)).json()
        assert len(got) == 25 and got[-1]["message"] == "4-9" and got[0]["message"] == "2-5"


async def test_stream_follows_new_lines(client, world):
    """The stream's generator (over HTTP in test_serve.py: the ASGI test transport buffers)."""
    from fleetyard.api.device_routes import _stream

    device = await register(client, world)
    side = client.app.state.devices
    follower = await side.backplane.follow_logs(device.id)
    out = _stream([{"message": "old"}], follower)
    assert orjson.loads(await out.__anext__()) == {"message": "old"}
    await client.post(f"/device/v2/{device.uuid}/logs", headers=device.headers, json=lines("new"))
    assert orjson.loads(await asyncio.wait_for(out.__anext__(), 2))["message"] == "new"
    await out.aclose()
    assert FAST.min_poll_interval_ms == 300
