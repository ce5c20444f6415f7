"""The resolver alone: names, scopes, keys, types and the plan it hands the compiler."""

from __future__ import annotations

import pytest

from fleetyard.errors import PermissionDenied, ResolveError, UnknownName, UnknownResource
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.resolve import Resolver
from fleetyard.sql import ir
from tests.odata.model import MODEL

ALL = Permissions.all()


def resolve(url: str, perms: Permissions = ALL, method: str = "GET"):
    req = parse(url)
    return Resolver(MODEL, perms, req.binds).resolve(req, method)


def test_synonyms_resolve_to_the_resource():
    assert resolve("/aircraft").resource.name == "plane"
    assert resolve("/pilot_can_fly_plane").resource.name == "pilot__can_fly__plane"


def test_default_fields_are_the_model_fields_in_order():
    plan = resolve("/licence")
    assert [f.name for f in plan.collection.fields] == ["id", "created_at", "modified_at", "name"]


def test_one_join_per_path_however_often_it_is_used():
    plan = resolve("/pilot?$filter=licence/name eq 'a' or licence/id eq 2&$orderby=licence/name asc")
    assert [j.resource.name for j, _ in plan.collection.level.joins] == ["licence"]


def test_lambda_bodies_see_the_target_and_enclosing_variables():
    resolve("/pilot?$filter=trained__pilot/any(t:t/can_fly__plane/any(c:c/plane/name eq t/name))")
    resolve("/pilot?$filter=trained__pilot/any(t:name eq 'x')")  # bare names are the target's
    with pytest.raises(UnknownName, match="'x'"):
        resolve("/pilot?$filter=trained__pilot/any(t:x/name eq 'x')")
    with pytest.raises(UnknownName, match="unknown field 'app_name'"):
        resolve("/pilot?$filter=trained__pilot/any(t:app_name eq 'x')")


def test_shadowed_variables_refer_to_the_inner_lambda():
    plan = resolve("/pilot?$filter=trained__pilot/any(t:t/trained__pilot/any(t:t/name eq 'x'))")
    (cond,) = plan.collection.where
    outer = cond.query.where.args[1]  # EXISTS (… AND inner EXISTS)
    inner_alias = outer.query.from_.alias
    assert outer.query.where.args[1].args[0] == ir.Col(inner_alias, "name")


def test_a_lambda_after_a_to_many_hop_nests():
    plan = resolve("/pilot?$filter=can_fly__plane/plane/any(p:p/name eq 'x')")
    (cond,) = plan.collection.where
    inner = cond.query.where.args[1]  # EXISTS link … AND link.plane IN (SELECT plane.id …)
    assert isinstance(cond, ir.Exists) and isinstance(inner, ir.Op) and inner.op == "IN"


def test_any_over_a_to_one_navigation_finds_the_parents_first():
    plan = resolve("/pilot?$filter=licence/any(l:l/name eq 'x')")
    (cond,) = plan.collection.where
    assert cond.op == "IN" and cond.args[0] == ir.Col(plan.collection.source.alias, "licence")
    assert isinstance(cond.args[1], ir.Scalar)


def test_keys():
    resolve("/team('purple')")
    resolve("/identification_method(identification_type='x',pilot=1)")
    resolve("/pilot?$orderby=identification_method(identification_type='passport')/identification_number desc")
    with pytest.raises(ResolveError, match="do not identify one"):
        resolve("/pilot(name='Peter')")
    with pytest.raises(UnknownName, match="key field 'nme'"):
        resolve("/pilot(nme='Peter')")
    with pytest.raises(ResolveError, match="already fixed"):
        resolve("/pilot?$orderby=identification_method(pilot=1,identification_type='p')/identification_number desc")


def test_types_are_checked_before_the_database_sees_them():
    with pytest.raises(ResolveError, match="cannot compare"):
        resolve("/pilot?$filter=name eq hire_date")
    with pytest.raises(ResolveError, match="needs numbers"):
        resolve("/pilot?$filter=name add 1 eq 2")
    with pytest.raises(ResolveError, match="whole numbers"):
        resolve("/pilot?$filter=rating mod 2 eq 1")
    with pytest.raises(ResolveError, match="duration"):
        resolve("/pilot?$filter=age add duration'P1D' eq 1")


def test_literals_take_the_type_of_what_they_meet():
    plan = resolve("/pilot?$filter=age eq 5 and hire_date gt '2020-01-01' and name eq 'x'")
    assert [(p.type, p.name) for p in plan.params] == [
        ("Integer", "age"), ("Date Time", "hire_date"), ("Short Text", "name")]


def test_unknown_resources_and_denied_resources():
    with pytest.raises(UnknownResource):
        resolve("/nothing")
    with pytest.raises(UnknownResource):
        resolve("/$metadata")
    with pytest.raises(PermissionDenied):
        resolve("/pilot", Permissions({}, key="none"))


def test_permission_binds_are_constants_and_actor_a_context_value():
    perms = Permissions({"pilot": {"read": "name eq 'x' and id eq @__ACTOR_ID"}}, key="p")
    plan = resolve("/pilot?$filter=age eq 3", perms)
    assert [(p.kind, p.ref) for p in plan.params] == [("const", "x"), ("context", "__ACTOR_ID"), ("bind", 0)]
