"""The application's lifetime from settings (open, migrate, serve, close) on both
databases, the worker factory, and the route's small pure helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetyard.api import AppSettings, create_app
from fleetyard.api.app import app_from_env, import_model
from fleetyard.api.odata_routes import location, odata_url
from tests.api.conftest import serving
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url
from tests.odata.model import MODEL


async def _round_trip(settings: AppSettings) -> None:
    app = create_app(settings)
    async with serving(app) as client:
        assert (await client.get("/ping")).text == "OK"
        assert (await client.get("/v7/plane")).json() == {"d": []}
        assert (await client.post("/v7/plane", json={"name": "Comet"})).status_code == 201
    async with serving(create_app(settings)) as client:  # migrating again is a no-op
        assert [p["name"] for p in (await client.get("/v7/plane")).json()["d"]] == ["Comet"]


async def test_settings_open_and_migrate_sqlite(tmp_path: Path):
    await _round_trip(AppSettings(f"sqlite:///{tmp_path / 'app.db'}", MODEL))


async def test_settings_open_and_migrate_postgres():
    url = postgres_url()
    db, schema = await open_postgres_schema(url)
    await db.close()
    try:
        options = {"pool_size": 2, "server_settings": {"search_path": schema}}
        await _round_trip(AppSettings(url, MODEL, options))
    finally:
        await drop_postgres_schema(url, schema)


async def test_the_worker_factory_reads_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FLEETYARD_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FLEETYARD_MODEL", "tests.odata.model:MODEL")
    async with serving(app_from_env()) as client:
        assert (await client.get("/v7/pilot/$count")).json() == {"d": 0}


def test_import_model_says_what_is_wrong():
    assert import_model("tests.odata.model:MODEL") is MODEL
    with pytest.raises(ValueError, match="MODULE:ATTR"):
        import_model("tests.odata.model")
    with pytest.raises(ValueError, match="not a fleetyard Model"):
        import_model("tests.odata.model:WIDE_FIELDS")
    with pytest.raises(ImportError):
        import_model("no_such_module:MODEL")


# --- the route's helpers -----------------------------------------------------------------


def scope(raw_path: bytes | None, query: bytes = b"", path: str = "") -> dict:
    s = {"path": path, "query_string": query}
    if raw_path is not None:
        s["raw_path"] = raw_path
    return s


def test_odata_url_is_the_raw_rest_of_the_path():
    assert odata_url(scope(b"/v7/team('a%2Fb')")) == "/team('a%2Fb')"
    assert odata_url(scope(b"/v7/pilot", b"$filter=name%20eq%20'a%26b'&$top=1")) == \
        "/pilot?$filter=name%20eq%20'a%26b'&$top=1"
    # application(slug='org/fleet'): an unencoded `/` inside the key stays too.
    assert odata_url(scope(b"/v6/application(slug='org/fleet')")) == "/application(slug='org/fleet')"
    assert odata_url(scope(b"/resin/")) == "/"
    # A server that leaves the query on raw_path: it is cut, scope["query_string"] wins.
    assert odata_url(scope(b"/v7/pilot?x=1", b"x=1")) == "/pilot?x=1"
    # Without raw_path, the decoded path is re-encoded (best effort).
    assert odata_url(scope(None, b"", "/v7/team('a b')")) == "/team('a%20b')"
    # Bytes that are not UTF-8 cannot crash the route.
    assert odata_url(scope(b"/v7/pilot\xff")) == "/pilot\ufffd"


def test_location_of_a_created_row():
    assert location("v7", "/pilot", MODEL, {"id": 5, "name": "x"}) == "/v7/pilot(@id)?@id=5"
    assert location("v7", "/pilot?returnResource=false", MODEL, {"id": 6}) == "/v7/pilot(@id)?@id=6"
    assert location("v7", "/plane(12)", MODEL, {"id": 12}) == "/v7/plane(@id)?@id=12"
    assert location("v7", "/aircraft", MODEL, {"id": 3}) == "/v7/aircraft(@id)?@id=3"  # as named
    team = {"favourite_colour": "O'Neil/é", "name": None}
    assert location("resin", "/team", MODEL, team) == "/resin/team(@id)?@id='O'Neil%2F%C3%A9'"
