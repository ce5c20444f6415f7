"""Sessions: token refresh, signing up, accounts imported from openBalena with bcrypt
hashes, the brute-force throttle, and credentials kept out of log lines
(spec/device-api.md §0.1, §11; decisions.md). On both databases."""

from __future__ import annotations

import logging
import time
import uuid

import bcrypt
import jwt
import pytest

from fleetyard.api import create_app
from fleetyard.auth import tokens
from fleetyard.auth.bootstrap import AuthSettings
from fleetyard.auth.throttle import Limits, RedisThrottle, Throttle, TooManyRequests
from tests.api.conftest import engine_factory, serving
from tests.auth.conftest import ALL, PASSWORD, SECRET, World, new_key


def claims(token: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"])


async def test_refresh_keeps_or_renews_auth_time(client, engine, world: World):
    a = world.alice
    old_auth = int((time.time() - 3600) * 1000)
    token = tokens.issue(SECRET, a.user, a.jwt_secret, auth_time_ms=old_auth, now=time.time() - 7200)
    h = {"Authorization": f"Bearer {token}"}
    r = await client.get("/user/v1/refresh-token", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    new = claims(r.text)
    assert set(new) == {"id", "jwt_secret", "authTime", "iat", "exp"}
    assert new["authTime"] == old_auth and new["iat"] > claims(token)["iat"]
    assert new["exp"] - new["iat"] == tokens.LIFETIME_SECONDS
    # with the password the new token is sudo-fresh: it may make a named key
    r = await client.post("/user/v1/refresh-token", json={"password": PASSWORD}, headers=h)
    fresh = r.text
    assert abs(claims(fresh)["authTime"] - time.time() * 1000) < 60_000
    r = await client.post("/api-key/user/full", json={"name": "k"}, headers={"Authorization": f"Bearer {fresh}"})
    assert r.status_code == 200
    r = await client.post("/user/v1/refresh-token", json={"password": "wrong password"}, headers=h)
    assert r.status_code == 401 and r.content == b""
    # never for an API key, nor without credentials
    key = await new_key(engine, a)
    assert (await client.get("/user/v1/refresh-token", headers={"Authorization": f"Bearer {key}"})).status_code == 401
    assert (await client.get("/user/v1/refresh-token")).status_code == 401


async def test_signup_is_closed_by_default(client, world: World):
    r = await client.post("/user/register", json={"email": "eve@example.com", "password": "long enough"})
    assert r.status_code == 404


async def test_signup_when_open(engine, world: World):
    app = create_app(engine_factory(engine), auth=AuthSettings(jwt_secret=SECRET, signup=True))
    async with serving(app) as c:
        r = await c.post("/user/register", json={"email": "Eve.Smith@example.com", "password": "long enough"})
        assert r.status_code == 200, r.text
        who = (await c.get("/user/v1/whoami", headers={"Authorization": f"Bearer {r.text}"})).json()
        assert who["username"] == "eve_smith" and who["email"] == "Eve.Smith@example.com"
        orgs = (await c.get("/v7/organization?$select=handle", headers={"Authorization": f"Bearer {r.text}"})).json()
        assert orgs["d"] == [{"handle": "eve_smith"}]
        # a second eve gets another name; a taken address, a short password are refused
        r = await c.post("/user/register", json={"email": "eve.smith@other.example", "password": "long enough"})
        assert r.status_code == 200
        assert (await c.get("/user/v1/whoami", headers={"Authorization": f"Bearer {r.text}"})).json()[
            "username"] == "eve_smith_2"
        r = await c.post("/user/register", json={"email": "eve.smith@example.com", "password": "long enough"})
        assert r.status_code == 409
        r = await c.post("/user/register", json={"email": "x@example.com", "password": "short"})
        assert r.status_code == 400
        r = await c.post("/user/register", json={"email": "alice2@example.com", "password": "long enough",
                                                  "username": "alice"})
        assert r.status_code == 409
        # and logs in
        r = await c.post("/login_", json={"username": "eve_smith", "password": "long enough"})
        assert r.status_code == 200


async def test_imported_bcrypt_passwords_log_in_and_become_argon2(client, engine, world: World):
    stored = bcrypt.hashpw(b"openbalena pw", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2a$", 1)
    await engine.patch(f"/user({world.bob.user})", {"password": stored}, ALL)
    r = await client.post("/login_", json={"username": "bob", "password": "wrong one"})
    assert r.status_code == 401
    r = await client.post("/login_", json={"username": "bob", "password": "openbalena pw"})
    assert r.status_code == 200
    [[rehashed]] = await engine.db.fetch_all(f'SELECT password FROM "user" WHERE id = {world.bob.user}')
    assert str(rehashed).startswith("$argon2id$")
    r = await client.post("/login_", json={"username": "bob@example.com", "password": "openbalena pw"})
    assert r.status_code == 200


async def test_repeated_failures_are_refused_for_a_while(engine, world: World):
    limits = Limits(per_account=4, per_address=6, delay=0.0, max_delay=0.0)
    app = create_app(engine_factory(engine), auth=AuthSettings(jwt_secret=SECRET, login_limits=limits))
    async with serving(app) as client:
        wrong = {"username": "alice", "password": "wrong password"}
        for _ in range(4):
            assert (await client.post("/login_", json=wrong)).status_code == 401
        r = await client.post("/login_", json={"username": "alice", "password": PASSWORD})
        assert r.status_code == 429 and r.json() == "Too Many Requests"
        assert 3500 <= int(r.headers["Retry-After"]) <= 3600
        # another account from the same address still works, until the address is refused too
        assert (await client.post("/login_", json={"username": "bob", "password": PASSWORD})).status_code == 200
        for _ in range(2):
            assert (await client.post("/login_", json={"username": "bob", "password": "nope nope"})).status_code == 401
        assert (await client.post("/login_", json={"username": "bob", "password": PASSWORD})).status_code == 429


async def test_servers_sharing_redis_count_failures_together(engine, world: World):
    """Two servers (as two processes would be) with one Redis: the guesses spread over them
    add up to one account's limit."""
    from fleetyard.device import DeviceSettings
    from tests.device.test_serve import redis_url

    limits = Limits(per_account=4, per_address=100, delay=0.0, max_delay=0.0)
    device = DeviceSettings(redis_url=redis_url(), redis_prefix=f"fleetyard-test:{uuid.uuid4().hex}:",
                            heartbeat_enabled=False)
    apps = [create_app(engine_factory(engine), auth=AuthSettings(jwt_secret=SECRET, login_limits=limits),
                       device=device) for _ in range(2)]
    async with serving(apps[0]) as one, serving(apps[1]) as two:
        wrong = {"username": "alice", "password": "wrong password"}
        for client in (one, two, one, two):
            assert (await client.post("/login_", json=wrong)).status_code == 401
        for client in (one, two):
            assert (await client.post("/login_", json={"username": "alice", "password": PASSWORD})).status_code == 429


@pytest.mark.parametrize(("trusted", "spreads"), [("127.0.0.1", True), ("", False)])
async def test_the_login_throttle_counts_each_client_behind_the_proxy(engine, world, trusted, spreads):
    limits = Limits(per_account=100, per_address=3, delay=0.0, max_delay=0.0)
    app = create_app(engine_factory(engine), auth=AuthSettings(jwt_secret=SECRET, login_limits=limits),
                     trusted_proxies=trusted)
    async with serving(app) as client:  # every request comes from 127.0.0.1, as from a proxy
        guesser = {"X-Forwarded-For": "198.51.100.66"}
        for _ in range(3):
            r = await client.post("/login_", json={"username": "bob", "password": "a wrong one"}, headers=guesser)
            assert r.status_code == 401
        r = await client.post("/login_", json={"username": "alice", "password": PASSWORD}, headers=guesser)
        assert r.status_code == 429
        r = await client.post("/login_", json={"username": "alice", "password": PASSWORD},
                              headers={"X-Forwarded-For": "198.51.100.7"})
        assert r.status_code == (200 if spreads else 429)


@pytest.fixture(params=["memory", "redis"])
async def throttles(request: pytest.FixtureRequest):
    """A factory of throttles on one store, with a clock the test moves: the process's own
    counters, or Redis's, where every throttle made counts together."""
    now = [1_000_000.0]
    limits = Limits(per_account=10, per_address=100, free=3, delay=0.25, max_delay=2.0)
    if request.param == "memory":
        one = Throttle(limits, clock=lambda: now[0])
        yield now, lambda: one
        return
    import redis.asyncio as aioredis

    from tests.device.test_serve import redis_url

    client = aioredis.from_url(redis_url(), decode_responses=True)
    prefix = f"fleetyard-test:{uuid.uuid4().hex}:"
    try:
        yield now, lambda: RedisThrottle(client, prefix, limits, clock=lambda: now[0])
    finally:
        keys = [k async for k in client.scan_iter(prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_the_throttle_slows_then_refuses_then_forgets(throttles):
    now, make = throttles
    t = make()
    waits = [await t.failed("alice", "10.0.0.1") for _ in range(9)]
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3:6] == [0.25, 0.5, 1.0] and max(waits) == 2.0
    await t.check("alice", "10.0.0.1")
    await make().failed("alice", "10.0.0.2")  # the tenth, from elsewhere (on Redis: another process)
    with pytest.raises(TooManyRequests) as refused:
        await make().check("ALICE", "10.0.0.3")
    assert 3599 <= int(refused.value.headers["Retry-After"]) <= 3600
    now[0] += 3601
    await t.check("alice", "10.0.0.1")
    for _ in range(5):
        await t.failed("bob", "10.0.0.9")
    await make().succeeded("bob", "10.0.0.9")  # the account's count goes; the address's stays
    assert await t.failed("bob", "10.0.0.8") == 0.0 and await t.failed("carol", "10.0.0.9") > 0
    now[0] += 2 * 3600 + 1  # failures older than the window are forgotten
    assert await t.failed("carol", "10.0.0.9") == 0.0


async def test_query_credentials_stay_out_of_log_lines(client, engine, world: World, caplog):
    key = await new_key(engine, world.alice)
    with caplog.at_level(logging.INFO, logger="fleetyard"):
        r = await client.get(f"/v7/no_such_thing?apikey={key}&$top=1")
        assert r.status_code == 401
        await client.get(f"/v7/no_such_thing?auth_token={key}")
    lines = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "no_such_thing" in lines and key not in lines and "apikey=[redacted]" in lines
