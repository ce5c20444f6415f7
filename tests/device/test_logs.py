"""Device logs: POST /device/v2/:uuid/logs, GET the latest lines, and ?stream=1
(device-api.md §7)."""

from __future__ import annotations

import asyncio
import gzip

import orjson

from fleetyard.device import logs
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


def ndjson(*messages: str, **extra) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines(*messages, **extra))


async def test_a_gzipped_log_stream_is_stored(client, world):
    device = await register(client, world)
    headers = {**device.headers, "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
    body = ndjson("one", "two") + b"not json\n" + orjson.dumps({"message": 5, "timestamp": 1}) + b"\n" \
        + ndjson("three", serviceId=world.service).rstrip(b"\n")  # the last line may lack its newline
    r = await client.post(f"/device/v2/{device.uuid}/log-stream", headers=headers, content=gzip.compress(body))
    assert (r.status_code, r.content) == (201, b"")
    got = (await client.get(f"/device/v2/{device.uuid}/logs", headers=world.alice.headers)).json()
    assert [x["message"] for x in got] == ["one", "two", "three"]  # the two bad lines skipped
    assert got[2]["serviceId"] == world.service and set(got[0]) == {"message", "timestamp", "isSystem",
                                                                      "isStdErr", "createdAt"}
    # without gzip too, and the rate limit of batches does not apply to the stream
    plain = {**device.headers, "Content-Type": "application/x-ndjson; charset=utf-8"}
    for i in range(20):
        r = await client.post(f"/device/v2/{device.uuid}/log-stream", headers=plain, content=ndjson(f"p{i}"))
        assert r.status_code == 201
    got = (await client.get(f"/device/v2/{device.uuid}/logs?count=1", headers=world.alice.headers)).json()
    assert [x["message"] for x in got] == ["p19"]


async def test_log_stream_refusals(client, world):
    device = await register(client, world)
    other = await register(client, world)
    url = f"/device/v2/{device.uuid}/log-stream"
    kind = {"Content-Type": "application/x-ndjson"}
    r = await client.post(url, headers={**device.headers, "Content-Type": "application/json"}, content=ndjson("x"))
    assert (r.status_code, r.json()) == (415, "Streaming requests require Content-Type application/x-ndjson")
    r = await client.post(url, headers={**device.headers, **kind, "Content-Encoding": "br"}, content=ndjson("x"))
    assert r.status_code == 415
    r = await client.post(url, headers={**device.headers, **kind, "Content-Encoding": "gzip"}, content=b"plain text")
    assert r.status_code == 400 and "gzip" in r.json()
    cut = gzip.compress(ndjson("a", "b"))[:-8]  # no trailer: the gzip member never ends
    r = await client.post(url, headers={**device.headers, **kind, "Content-Encoding": "gzip"}, content=cut)
    assert r.status_code == 400 and "ended inside" in r.json()
    assert (await client.post(url, headers={**other.headers, **kind}, content=ndjson("x"))).status_code == 401
    r = await client.post(url, headers={**world.alice.headers, **kind}, content=ndjson("x"))
    assert r.json() == {"error": "API key required"}
    # a device that is gone waits (here 50 ms, 55 s by default) for its 401
    began = asyncio.get_running_loop().time()
    r = await client.post("/device/v2/" + "e" * 32 + "/log-stream", headers={**device.headers, **kind},
                          content=ndjson("x"))
    assert r.status_code == 401 and asyncio.get_running_loop().time() - began >= FAST.deleted_device_logs_delay_ms / 1000
    # what came in before the broken end is kept; nothing of the refused uploads
    got = (await client.get(f"/device/v2/{device.uuid}/logs", headers=world.alice.headers)).json()
    assert [x["message"] for x in got] == ["a", "b"]


async def test_stream_decoder_takes_chunks_as_they_come():
    decoder = logs.StreamDecoder(gzipped=True)
    packed = gzip.compress(ndjson("first", "second")) + gzip.compress(ndjson("third"))  # two members
    got: list[str] = []
    for i in range(0, len(packed), 7):
        got += [x["message"] for x in decoder.feed(packed[i:i + 7], 1)]
    got += [x["message"] for x in decoder.end(1)]
    assert got == ["first", "second", "third"]
    long = logs.StreamDecoder(gzipped=False)
    assert long.feed(b"x" * (logs.MAX_LINE + 1), 1) == [] and long.feed(b"y" * 10 + b"\n" + ndjson("ok"), 1) != []
    assert long.skipped == 1


async def test_stream_buffer_writes_by_size_and_by_time():
    written: list[list[str]] = []

    async def append(batch):
        written.append([x["message"] for x in batch])

    buffer = logs.StreamBuffer(append)
    await buffer.add([{"message": str(i)} for i in range(logs.STREAM_BATCH)])
    assert written == [[str(i) for i in range(logs.STREAM_BATCH)]]  # a full batch at once
    await buffer.add([{"message": "late"}])
    assert len(written) == 1
    await asyncio.sleep(logs.STREAM_FLUSH_S + 0.3)
    assert written[-1] == ["late"]  # written while the stream is still open
    await buffer.add([{"message": "last"}])
    await buffer.close()
    assert written[-1] == ["last"]


async def test_a_log_stream_that_inflates_to_too_much_is_cut_down(client, world):
    """A small gzip upload of many lines (or one huge line) is inflated a piece at a time;
    past the per-device retention its lines are suppressed, and the log says so."""
    device = await register(client, world)
    many = ndjson(*(f"line {i}" for i in range(logs.MAX_LINES_PER_CHUNK + 500)))
    huge = b'{"message": "' + b"x" * (8 * logs.INFLATE_PIECE) + b'", "timestamp": 1}\n'
    packed = gzip.compress(huge + many)
    assert len(packed) < len(huge) // 100
    r = await client.post(f"/device/v2/{device.uuid}/log-stream", content=packed, headers={
        **device.headers, "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    assert r.status_code == 201
    got = (await client.get(f"/device/v2/{device.uuid}/logs?count=all", headers=world.alice.headers)).json()
    assert got[-1]["message"] == "Warning: Suppressed 500 message(s) due to rate limiting"
    assert got[-1]["isSystem"] is True and got[-2]["message"] == f"line {logs.MAX_LINES_PER_CHUNK - 1}"
    assert all(len(x["message"]) < 100 for x in got)  # the huge line was dropped whole
