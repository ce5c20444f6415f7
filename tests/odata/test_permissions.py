"""A caller's permission predicate filters every place a resource's rows are read or
written: main query, key lookup, $expand, lambda, navigation path, $count, navigation
GET, and the row sets of PATCH and DELETE. Each test reads the same thing with and
without the rules, so a missing filter shows as a leak."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.errors import PermissionDenied
from fleetyard.odata.permissions import Permissions
from tests.odata.seed import ALL, seeded

# Pilots of the purple team (Peter 1, Harry 2) are visible; Pat (3, red) and O'Brien (4,
# no team) are not. The A380 and the Beta licence are hidden too.
RULES = Permissions(
    {
        "pilot": {
            "read": "is_on__team eq 'purple'",
            "create": "is_on__team eq 'purple'",
            "update": "id eq @__ACTOR_ID",
        },
        "plane": {"read": "name ne 'A380'", "create": True},
        "licence": {"read": "name eq 'Alpha'"},
        "pilot__can_fly__plane": {"read": True},
        "team": {"read": True},
        "identification_method": {"read": "pilot/any(p:p/is_on__team eq 'purple')", "delete": True},
    },
    key="test-rules",
)
CALLER = {"__ACTOR_ID": 2}


@pytest.fixture
async def engine(database):
    return await seeded(database)


async def both(engine, url):
    """(rows with the rules, rows with every right)."""
    async def get(perms):
        return orjson.loads(await engine.get(url, perms, CALLER))["d"]
    return await get(RULES), await get(ALL)


async def test_main_query_and_key_lookup(engine):
    ruled, full = await both(engine, "/pilot?$select=id")
    assert [r["id"] for r in ruled] == [1, 2] and len(full) == 4
    assert await both(engine, "/pilot(3)?$select=id") == ([], [{"id": 3}])
    assert await both(engine, "/pilot/$count") == (2, 4)


async def test_expansions(engine):
    ruled, full = await both(engine, "/pilot__can_fly__plane?$select=id&$expand=plane($select=name),pilot($select=name)")
    assert ruled[3] == {"plane": [], "pilot": [], "id": 4}
    assert full[3] == {"plane": [{"name": "A380"}], "pilot": [{"name": "Pat"}], "id": 4}
    ruled, full = await both(engine, "/pilot(1)?$select=id&$expand=trained__pilot/$count")
    assert (ruled[0]["trained__pilot"], full[0]["trained__pilot"]) == (1, 2)
    ruled, full = await both(engine, "/team?$select=favourite_colour&$expand=includes__pilot($select=name)")
    assert ruled[1]["includes__pilot"] == [] and full[1]["includes__pilot"] == [{"name": "Pat"}]


async def test_lambdas(engine):
    url = "/pilot?$select=id&$filter=trained__pilot/any(t:t/name eq 'Pat')"
    assert await both(engine, url) == ([], [{"id": 1}])
    url = "/plane?$select=id&$filter=can_be_flown_by__pilot/any(c:c/pilot/any(p:p/name eq 'Pat'))"
    assert await both(engine, url) == ([], [{"id": 3}])
    url = "/pilot?$select=id&$filter=trained__pilot/all(t:t/name eq 'Harry')&$orderby=id asc"
    ruled, full = await both(engine, url)
    assert 1 in [r["id"] for r in ruled] and 1 not in [r["id"] for r in full]


async def test_navigation_paths_and_counts_in_filters(engine):
    url = "/pilot__can_fly__plane?$select=id&$filter=pilot/name eq 'Pat'"
    assert await both(engine, url) == ([], [{"id": 4}])
    url = "/pilot?$select=id&$filter=trained__pilot/$count eq 2"
    assert await both(engine, url) == ([], [{"id": 1}])
    url = "/pilot__can_fly__plane?$select=id&$filter=plane/name eq 'A380' or pilot/licence/name eq 'Beta'"
    assert await both(engine, url) == ([], [{"id": 3}, {"id": 4}])


async def test_navigation_gets(engine):
    assert await both(engine, "/team('red')/includes__pilot?$select=id") == ([], [{"id": 3}])
    assert await both(engine, "/pilot(3)/can_fly__plane?$select=id") == ([], [{"id": 4}])
    assert await both(engine, "/pilot(3)/can_fly__plane/$count") == (0, 1)


async def test_permission_predicates_may_read_other_resources(engine):
    ruled, full = await both(engine, "/identification_method?$select=id")
    assert len(ruled) == 3 and len(full) == 3
    await engine.patch("/pilot(2)", {"is_on__team": "red"}, ALL)
    ruled, _ = await both(engine, "/identification_method?$select=identification_number")
    assert ruled == [{"identification_number": "P1"}, {"identification_number": "I1"}]


async def test_patch_and_delete_touch_only_permitted_rows(engine):
    assert await engine.patch("/pilot?$filter=age gt 0", {"age": 99}, RULES, CALLER) == 1
    ages = orjson.loads(await engine.get("/pilot?$select=age", ALL))["d"]
    assert [a["age"] for a in ages] == [45, 99, None, 52]
    # $filter paths read under read rules: Pat is invisible, so nothing matches
    assert await engine.delete("/identification_method?$filter=pilot/name eq 'Pat'", RULES, CALLER) == 0
    assert await engine.delete("/identification_method?$filter=pilot/name eq 'Harry'", RULES, CALLER) == 1


async def test_no_right_at_all_is_refused(engine):
    with pytest.raises(PermissionDenied):
        await engine.delete("/pilot(1)", RULES, CALLER)
    with pytest.raises(PermissionDenied):
        await engine.get("/copilot", RULES, CALLER)
    assert orjson.loads(await engine.get("/pilot/$count", ALL))["d"] == 4


async def test_post_outside_the_create_rule_is_refused(engine):
    with pytest.raises(PermissionDenied):
        await engine.post("/pilot", {"name": "Red Baron", "is_on__team": "red"}, RULES, CALLER)
    assert orjson.loads(await engine.get("/pilot/$count", ALL))["d"] == 4
    row = await engine.post("/pilot", {"name": "Violet", "is_on__team": "purple"}, RULES, CALLER)
    assert row["name"] == "Violet"
    # allowed to create, not to read back: only the id comes back
    assert await engine.post("/plane", {"name": "A380"}, RULES, CALLER) == {"id": 4}


async def test_a_view_borrows_its_tables_rules(engine):
    ruled, full = await both(engine, "/senior_pilot?$select=id")
    assert ruled == [{"id": 1}] and full == [{"id": 1}, {"id": 4}]


async def test_an_update_cannot_move_a_row_out_of_reach(engine):
    rules = Permissions({"pilot": {"read": True, "update": "is_on__team eq 'purple'"}, "team": {"read": True}},
                        key="move-rules")
    with pytest.raises(PermissionDenied):
        await engine.patch("/pilot(2)", {"is_on__team": "red"}, rules, CALLER)
    (harry,) = orjson.loads(await engine.get("/pilot(2)?$select=is_on__team", ALL))["d"]
    assert harry == {"is_on__team": {"__id": "purple"}}
    assert await engine.patch("/pilot(2)", {"age": 33}, rules, CALLER) == 1


async def test_a_constraint_on_a_row_one_may_not_create_is_a_401(engine):
    """A unique or foreign-key violation would tell of rows out of the caller's reach (Pat
    flies plane 3; pilot 99 does not exist): the create rule speaks first. Within one's
    reach the constraint's own answer stands."""
    from fleetyard.errors import ConstraintError

    rules = Permissions({"pilot__can_fly__plane": {"read": True, "create": "pilot/any(p:p/is_on__team eq 'purple')"},
                         "pilot": {"read": True}}, key="create-rules")
    for body in ({"pilot": 3, "can_fly__plane": 3}, {"pilot": 99, "can_fly__plane": 1}):
        with pytest.raises(PermissionDenied):
            await engine.post("/pilot__can_fly__plane", body, rules, CALLER)
    with pytest.raises(ConstraintError) as e:
        await engine.post("/pilot__can_fly__plane", {"pilot": 1, "can_fly__plane": 1}, rules, CALLER)
    assert e.value.status == 409
    with pytest.raises(ConstraintError) as e:
        await engine.post("/pilot__can_fly__plane", {"pilot": 1, "can_fly__plane": 99}, rules, CALLER)
    assert e.value.status == 409
    assert orjson.loads(await engine.get("/pilot__can_fly__plane/$count", ALL))["d"] == 4
    created = await engine.post("/pilot__can_fly__plane", {"pilot": 2, "can_fly__plane": 1}, rules, CALLER)
    assert created["pilot"] == {"__id": 2}


async def test_a_create_without_any_read_right_answers_the_id(engine):
    rules = Permissions({"plane": {"create": True}}, key="create-only")
    assert await engine.post("/plane", {"name": "Comet"}, rules, CALLER) == {"id": 4}


async def test_a_new_row_cannot_grant_its_own_creation(engine):
    """The rule is read without the new row: Harry (2) flies no plane 3 until this row
    says he does, so he may not be given it on the strength of the row itself."""
    rules = Permissions({"pilot__can_fly__plane": {
        "read": True, "create": "pilot/any(p:p/can_fly__plane/any(c:c/can_fly__plane eq 3))"},
        "pilot": {"read": True}}, key="self-granting")
    with pytest.raises(PermissionDenied):
        await engine.post("/pilot__can_fly__plane", {"pilot": 2, "can_fly__plane": 3}, rules, CALLER)
    created = await engine.post("/pilot__can_fly__plane", {"pilot": 3, "can_fly__plane": 1}, rules, CALLER)
    assert created["pilot"] == {"__id": 3}


async def test_an_update_is_checked_before_its_constraints(engine):
    """Moving one's row onto a key another's row holds would trip the unique constraint: the
    update rule speaks first (401), as for a POST. Within reach the constraint's 409 stands."""
    from fleetyard.errors import ConstraintError

    rules = Permissions({"pilot__can_fly__plane": {"read": True, "update": "pilot/any(p:p/is_on__team eq 'purple')"},
                         "pilot": {"read": True}}, key="update-rules")
    # row 1 is (Peter 1, plane 1); Pat (3, red) flies plane 3
    with pytest.raises(PermissionDenied):
        await engine.patch("/pilot__can_fly__plane(1)", {"pilot": 3, "can_fly__plane": 3}, rules, CALLER)
    with pytest.raises(ConstraintError) as e:
        await engine.patch("/pilot__can_fly__plane(1)", {"can_fly__plane": 2}, rules, CALLER)
    assert e.value.status == 409
    assert await engine.patch("/pilot__can_fly__plane(1)", {"can_fly__plane": 3}, rules, CALLER) == 1
