"""Write hooks: business rules run inside the write's transaction, see the ids it
touches, act through the engine, and roll back with it."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.errors import ConstraintError, ValueError_
from fleetyard.odata.engine import Engine
from fleetyard.odata.hooks import Hooks, Write
from tests.odata.model import MODEL
from tests.odata.seed import ALL, seeded

SEEN: list[tuple] = []


class PlaneRules(Hooks):
    inputs = frozenset({"shout"})  # no field: a word the rules turn into the name

    async def before_post(self, w: Write, data: dict) -> dict:
        if data.get("name") == "Hindenburg":
            raise ValueError_("airships are not planes")
        return {**data, "name": data.get("name", "").upper() or "UNNAMED"}

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        if "shout" in data:
            data = {**data, "name": data.pop("shout").upper() + "!"}
        return data

    async def nothing_to_delete(self, w: Write, keyed: bool) -> None:
        if keyed:
            raise ValueError_("no such plane", status=404)


class PilotRules(Hooks):
    async def after_post(self, w: Write, new_id, data: dict) -> None:
        if "passport" in data:
            await w.post("/identification_method", {
                "pilot": new_id, "identification_type": "passport", "identification_number": data["passport"]})
        if data.get("passport") == "REVOKED":
            raise ValueError_("this passport was revoked")

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        SEEN.append(("patch", tuple(ids), w.context.get("who")))
        return data

    async def before_delete(self, w: Write, ids: list) -> None:
        # What the rule must clear first so the foreign keys let the delete through.
        for i in ids:
            await w.patch(f"/pilot?$filter=was_trained_by__pilot eq {i}", {"was_trained_by__pilot": None})
            await w.delete(f"/pilot__can_fly__plane?$filter=pilot eq {i}")
            await w.delete(f"/identification_method?$filter=pilot eq {i}")
            await w.delete(f"/gauge?$filter=pilot eq {i}")


@pytest.fixture
async def engine(database):
    plain = await seeded(database)
    return Engine(MODEL, plain.db, hooks={"plane": PlaneRules(), "pilot": PilotRules()})


async def d(engine, url):
    return orjson.loads(await engine.get(url, ALL))["d"]


async def test_before_post_fills_in_and_refuses(engine):
    assert (await engine.post("/plane", {"name": "dash 8"}, ALL))["name"] == "DASH 8"
    assert (await engine.post("/plane", {}, ALL))["name"] == "UNNAMED"
    with pytest.raises(ValueError_, match="airships"):
        await engine.post("/plane", {"name": "Hindenburg"}, ALL)


async def test_after_post_writes_in_the_same_transaction(engine):
    row = await engine.post("/pilot", {"name": "Nina", "passport": "N1"}, ALL)
    assert [m["identification_number"] for m in await d(engine, f"/identification_method?$filter=pilot eq {row['id']}")] == ["N1"]


async def test_a_failing_rule_rolls_the_whole_write_back(engine):
    with pytest.raises(ValueError_, match="revoked"):
        await engine.post("/pilot(40)", {"name": "Ola", "passport": "REVOKED"}, ALL)
    assert await d(engine, "/pilot(40)") == []
    assert await d(engine, "/identification_method?$filter=identification_number eq 'REVOKED'") == []


async def test_hooks_see_the_ids_and_the_callers_context(engine):
    SEEN.clear()
    assert await engine.patch("/pilot?$filter=age gt 40", {"is_experienced": False}, ALL, {"who": "ops"}) == 2
    assert SEEN == [("patch", (1, 4), "ops")]
    assert await engine.patch("/pilot?$filter=age gt 99", {"is_experienced": False}, ALL) == 0
    assert len(SEEN) == 1  # no rows, no hook


async def test_before_delete_clears_references(engine):
    plain = Engine(MODEL, engine.db)
    with pytest.raises(ConstraintError):
        await plain.delete("/pilot(1)", ALL)
    assert await engine.delete("/pilot(1)", ALL) == 1
    assert [p["was_trained_by__pilot"] for p in await d(engine, "/pilot?$select=was_trained_by__pilot")] == [None, None, None]


async def test_a_patch_of_rule_inputs_only_reaches_the_hooks(engine):
    assert await engine.patch("/plane(1)", {"shout": "mayday"}, ALL) == 1
    assert [p["name"] for p in await d(engine, "/plane(1)?$select=name")] == ["MAYDAY!"]
    with pytest.raises(ValueError_, match="not writable"):  # a word no rule takes
        await engine.patch("/plane(1)", {"whisper": "x"}, ALL)


async def test_a_delete_of_nothing_may_be_refused_by_key_only(engine):
    with pytest.raises(ValueError_, match="no such plane") as e:
        await engine.delete("/plane(999)", ALL)
    assert e.value.status == 404
    assert await engine.delete("/plane?$filter=id eq 999", ALL) == 0
