"""Every error answer: a JSON string body, the status of spec/odata.md §11 and
spec/decisions.md, the stable code in `X-Fleetyard-Error`; a crash is a generic 500."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from fleetyard.api import create_app
from fleetyard.api.errors import CatchAll, not_found_message
from fleetyard.db.base import DatabaseError
from tests.api.conftest import engine_factory, serving


def error(r, status: int, code: str) -> str:
    """The JSON string body of an error answer, after checking its status and headers."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["x-fleetyard-error"] == code
    body = r.json()
    assert isinstance(body, str)
    return body


async def test_unknown_resource_is_a_401_naming_it(client):
    assert error(await client.get("/v7/my_application"), 401, "resolve.unknown_resource") == \
        "Unknown resource 'my_application'"


async def test_unknown_field_is_a_400_with_the_message(client):
    r = await client.get("/v7/pilot?$select=nmae")
    assert error(r, 400, "resolve.unknown_name") == \
        "unknown field 'nmae' on resource 'pilot'; did you mean 'name'?"
    r = await client.get("/v7/pilot?$filter=agee gt 3")
    assert "agee" in error(r, 400, "resolve.unknown_name")


async def test_malformed_url_is_a_400(client, caplog):
    caplog.set_level(logging.INFO, "fleetyard.api")
    body = error(await client.get("/v7/pilot?$top=-1"), 400, "parse.syntax")
    assert body == "Malformed url: '/pilot?$top=-1'"
    # The log line carries the code and where the parser stopped.
    assert any("parse.syntax" in m and "offset" in m for m in caplog.messages)


async def test_invalid_json_names_where_it_broke(client):
    r = await client.post("/v7/plane", content=b'{"name": "x" "age": 1}',
                          headers={"content-type": "application/json"})
    body = error(r, 400, "request.invalid_json")
    assert body.startswith("Invalid JSON in the request body:") and "line 1 column 14" in body
    r = await client.patch("/v7/plane(1)", content=b'{"name": ')
    assert "line 1 column 10" in error(r, 400, "request.invalid_json")


async def test_a_body_over_512_kb_is_a_413(client):
    big = b'{"name": "' + b"x" * (512 * 1024) + b'"}'
    r = await client.post("/v7/plane", content=big)
    assert "512 kB" in error(r, 413, "request.too_large")

    async def chunks():  # no content-length: the limit holds while streaming
        yield b'{"name": "'
        for _ in range(600):
            yield b"x" * 1024
        yield b'"}'

    r = await client.patch("/v7/plane(1)", content=chunks())
    error(r, 413, "request.too_large")
    # Just under the limit is fine.
    almost = b'{"name": "Big", "profile": {"blob": "' + b"y" * (512 * 1024 - 50) + b'"}}'
    assert len(almost) <= 512 * 1024
    r = await client.post("/v7/pilot?returnResource=false", content=almost)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("prefix", ["/v1", "/v2", "/v3", "/v4", "/v5", "/v8", "/resin"])
async def test_an_unknown_version_is_a_404_naming_the_served_ones(client, prefix):
    body = error(await client.get(prefix + "/device"), 404, "http.not_found")
    assert f"'{prefix[1:]}'" in body and "/v6/" in body and "/v7/" in body


async def test_an_unknown_path_is_a_404(client):
    assert "/nowhere" in error(await client.get("/nowhere"), 404, "http.not_found")
    error(await client.get("/v7"), 404, "http.not_found")  # no redirect to /v7/


async def test_a_method_a_route_does_not_take_is_a_405(client):
    error(await client.post("/ping"), 405, "http.method_not_allowed")
    for method in ("HEAD", "TRACE"):
        r = await client.request(method, "/v7/pilot")
        assert r.status_code == 405 and r.headers["x-fleetyard-error"] == "http.method_not_allowed"
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert allowed == {"GET", "POST", "PATCH", "MERGE", "PUT", "DELETE", "OPTIONS"}


async def test_a_crash_is_a_generic_500_and_a_logged_traceback(engine, caplog):
    async def broken(request):
        raise RuntimeError("secret detail at /srv/fleetyard")

    async with serving(create_app(engine_factory(engine), caller=broken)) as client:
        with caplog.at_level(logging.ERROR, "fleetyard.api"):
            r = await client.get("/v7/pilot")
    assert error(r, 500, "internal") == "Internal server error"
    assert b"secret" not in r.content and b"Traceback" not in r.content
    (record,) = [rec for rec in caplog.records if rec.levelno == logging.ERROR]
    assert record.exc_info and "secret detail" in str(record.exc_info[1])


async def test_database_errors_hide_their_text(engine):
    async def busy(request):
        raise DatabaseError("canceling statement due to statement timeout", sqlstate="57014")

    async def failing(request):
        raise DatabaseError('relation "x" does not exist', sqlstate="42P01")

    for caller, status, code in ((busy, 503, "db.busy"), (failing, 500, "db.error")):
        async with serving(create_app(engine_factory(engine), caller=caller)) as client:
            r = await client.get("/v7/pilot")
        body = error(r, status, code)
        assert "statement" not in body and "relation" not in body


async def test_catch_all_answers_for_any_route():
    async def boom(request):
        raise ValueError("internal state")

    app = Starlette(routes=[Route("/boom", boom)], middleware=[Middleware(CatchAll)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/boom")
    assert error(r, 500, "internal") == "Internal server error"


def test_not_found_messages():
    served = ["v7", "v6"]
    assert not_found_message("/v5/device", served) == \
        "API version 'v5' is not served: the OData API is at /v7/, /v6/"
    assert not_found_message("/resin/device", served).startswith("API version 'resin' is not served")
    assert not_found_message("/v5", served).startswith("API version 'v5'")
    assert not_found_message("/v5x/a", served).startswith("Not found: /v5x/a")
