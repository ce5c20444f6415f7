"""The OData route over HTTP on both databases: envelopes, status codes, headers, the raw
URL reaching the engine, and the caller's rights reaching the statements."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.api import create_app
from fleetyard.api.callers import Caller
from fleetyard.odata.permissions import Permissions
from tests.api.conftest import engine_factory, serving
from tests.odata.seed import ALL

JSON = "application/json; charset=utf-8"


def assert_json(r, status: int = 200) -> object:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == JSON
    assert r.headers["cache-control"] == "no-cache"
    assert int(r.headers["content-length"]) == len(r.content)
    return orjson.loads(r.content)


def assert_empty_200(r) -> None:
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert r.headers["cache-control"] == "no-cache"


# --- reads ------------------------------------------------------------------------------


async def test_a_collection_is_the_engines_text_untouched(client, engine):
    url = "/pilot?$select=id,name&$orderby=id desc"
    r = await client.get("/v7" + url)
    body = assert_json(r)
    assert r.content == (await engine.get(url, ALL)).encode()  # no decode/encode on the way
    assert [p["id"] for p in body["d"]] == [4, 3, 2, 1]


async def test_a_key_is_still_a_list_and_a_missing_key_an_empty_one(client):
    (peter,) = assert_json(await client.get("/v7/pilot(1)"))["d"]
    assert peter["name"] == "Peter" and peter["licence"] == {"__id": 1}
    assert assert_json(await client.get("/v7/pilot(99)")) == {"d": []}


async def test_count_is_a_number(client):
    assert assert_json(await client.get("/v7/pilot/$count?$filter=age gt 40")) == {"d": 2}


async def test_v6_serves_a_model_without_a_v6_table_as_v7(client):
    # v6's table speaks of balena's model (tests/versions); another model is served as is.
    v7 = (await client.get("/v7/plane?$select=name")).content
    r = await client.get("/v6/plane?$select=name")
    assert_json(r)
    assert r.content == v7


async def test_percent_escapes_reach_the_parser_undecoded(client):
    # %2F inside a quoted key: a decoded path would split it; %25 and %26 stay in the literal.
    r = await client.post("/v7/team", json={"favourite_colour": "a/b", "name": "Slash"})
    assert r.status_code == 201, r.text
    (team,) = assert_json(await client.get("/v7/team('a%2Fb')"))["d"]
    assert team["name"] == "Slash"
    r = await client.get("/v7/pilot?$select=id&$filter=name eq 'O''Brien 100%25 a%2Fb %26 c'")
    assert assert_json(r) == {"d": [{"id": 4}]}
    r = await client.get("/v7/pilot?$select=id&$filter=name%20eq%20%27Pat%27")
    assert assert_json(r) == {"d": [{"id": 3}]}
    # A decoded newline in the path must not stop the route from matching.
    assert (await client.post("/v7/team", json={"favourite_colour": "two\nlines"})).status_code == 201
    assert len(assert_json(await client.get("/v7/team('two%0Alines')"))["d"]) == 1


# --- writes -----------------------------------------------------------------------------


async def test_post_answers_201_with_the_entity_and_its_location(client):
    r = await client.post("/v7/pilot", json={"name": "Nova", "age": 33, "licence": 2})
    created = assert_json(r, 201)
    assert created["name"] == "Nova" and created["licence"] == {"__id": 2}  # a plain object
    assert r.headers["location"] == f"/v7/pilot(@id)?@id={created['id']}"
    (again,) = assert_json(await client.get(f"/v7/pilot({created['id']})"))["d"]
    assert again == created


async def test_post_location_quotes_and_encodes_a_string_id(client):
    r = await client.post("/v6/team", json={"favourite_colour": "sky blue/2", "name": "Sky"})
    assert_json(r, 201)
    assert r.headers["location"] == "/v6/team(@id)?@id='sky%20blue%2F2'"


async def test_post_return_resource_false_gives_the_id_only(client):
    r = await client.post("/v7/plane?returnResource=false", json={"name": "Dash 8"})
    body = assert_json(r, 201)
    assert body == {"id": 4} and r.headers["location"] == "/v7/plane(@id)?@id=4"


@pytest.mark.parametrize("method", ["PATCH", "MERGE"])
async def test_patch_and_merge_answer_200_empty(client, method):
    assert_empty_200(await client.request(method, "/v7/pilot(2)", json={"age": 31}))
    (harry,) = assert_json(await client.get("/v7/pilot(2)?$select=age"))["d"]
    assert harry == {"age": 31}
    # No row matched: still 200, empty (odata.md §12.2).
    assert_empty_200(await client.request(method, "/v7/pilot(99)", json={"age": 1}))


async def test_put_replaces_and_creates(client):
    assert_empty_200(await client.put("/v7/plane(1)", json={"name": "Concorde II"}))
    assert_empty_200(await client.put("/v7/plane(10)", json={"name": "Comet"}))
    rows = assert_json(await client.get("/v7/plane?$select=id,name&$filter=id eq 1 or id eq 10"))["d"]
    assert rows == [{"id": 1, "name": "Concorde II"}, {"id": 10, "name": "Comet"}]


async def test_delete_answers_200_empty(client):
    assert_empty_200(await client.delete("/v7/identification_method(3)"))
    assert assert_json(await client.get("/v7/identification_method(3)")) == {"d": []}
    assert_empty_200(await client.delete("/v7/identification_method?$filter=id eq 99"))


async def test_options_is_200_empty_without_touching_the_engine(client):
    r = await client.options("/v7/no_such_resource")
    assert_empty_200(r)


async def test_an_empty_post_body_is_a_400_not_a_500(client):
    r = await client.post("/v7/plane")
    assert assert_json(r, 400) == '"name" is required'


async def test_write_errors_keep_the_reference_messages(client):
    r = await client.patch("/v7/pilot(1)", json={})
    assert assert_json(r, 400) == "No fields to update"
    assert r.headers["x-fleetyard-error"] == "value.invalid"
    r = await client.post("/v7/team", json={"favourite_colour": "red"})
    assert assert_json(r, 409) == '"favourite_colour" must be unique.'
    assert r.headers["x-fleetyard-error"] == "write.constraint"
    r = await client.patch("/v7/pilot(1)", json={"age": "old"})
    assert r.status_code == 400 and "age" in r.json()
    r = await client.post("/v7/pilot", json=[1, 2])
    assert assert_json(r, 400) == "the request body must be a JSON object"


# --- the caller ---------------------------------------------------------------------------


async def test_the_callers_rights_and_context_reach_the_statements(engine):
    own = Permissions({"pilot": {"read": "id eq @__ACTOR_ID"}}, key="own-pilot")

    async def me(request) -> Caller:
        return Caller(own, {"__ACTOR_ID": int(request.headers["x-actor"])})

    async with serving(create_app(engine_factory(engine), caller=me)) as client:
        r = await client.get("/v7/pilot?$select=id,name", headers={"x-actor": "2"})
        assert assert_json(r) == {"d": [{"id": 2, "name": "Harry"}]}
        r = await client.get("/v7/plane", headers={"x-actor": "2"})  # no right at all
        assert r.status_code == 401 and r.headers["x-fleetyard-error"] == "auth.denied"
        assert isinstance(r.json(), str)
