"""The rule sets of `fleetyard.auth.permissions`, checked against the balena model without a
database: every rule parses and resolves for its action, the guest's never needs an actor,
and every resource of the model has a decision (a new resource cannot slip in unruled)."""

from __future__ import annotations

import pytest

from fleetyard.auth import permissions as rules
from fleetyard.errors import PermissionDenied
from fleetyard.model.balena import MODEL
from fleetyard.odata.parser import parse
from fleetyard.odata.resolve import Resolver

METHOD = {"read": "GET", "create": "POST", "update": "PATCH", "delete": "DELETE"}

# Resources no user may touch at all (a 401): auth internals and server settings
# (spec/model.md §1.34, §5.2).
DENIED = {"config", "permission", "role", "role__has__permission", "user_role", "user_permission",
          "api_key__has__role", "api_key__has__permission"}


SETS = [rules.USER, rules.GUEST, rules.DEVICE, rules.PROVISIONING, *map(rules.action, rules.ACTIONS)]


@pytest.mark.parametrize("permissions", SETS, ids=[p.key for p in SETS])
def test_every_rule_resolves(permissions):
    for resource, actions in permissions.rules.items():
        assert MODEL.get(resource) is not None, resource
        for action in actions:
            req = parse(f"/{resource}")
            plan = Resolver(MODEL, permissions, req.binds).resolve(req, METHOD[action])
            bound = {p.ref for p in plan.params if p.kind == "context"}
            assert bound <= {"__ACTOR_ID"}, (resource, action, bound)
            if permissions is rules.GUEST:
                assert not bound, (resource, action)


def test_every_resource_has_a_decision():
    names = set(MODEL.resources)
    decided = set(rules.USER.rules) | DENIED
    assert names - decided == set()
    assert DENIED.isdisjoint(rules.USER.rules)
    for resource in DENIED:
        req = parse(f"/{resource}")
        with pytest.raises(PermissionDenied):
            Resolver(MODEL, rules.USER, req.binds).resolve(req, "GET")


def test_public_reads_are_a_subset_of_the_users():
    for resource, actions in rules.GUEST.rules.items():
        assert set(actions) == {"read"}, resource
        assert "read" in rules.USER.rules[resource], resource


def test_keys_are_stable_and_distinct():
    keys = [p.key for p in (*SETS, rules.SUPERUSER)]
    assert len(set(keys)) == len(keys)
    assert {"user", "guest", "all", "device", "provisioning"} <= set(keys)


def test_every_key_reads_what_a_guest_reads():
    for permissions in (rules.DEVICE, rules.PROVISIONING):
        for resource, actions in rules.GUEST.rules.items():
            if actions["read"] is True:
                assert permissions.rules[resource]["read"] is True, (permissions.key, resource)
            else:
                assert str(actions["read"]) in str(permissions.rules[resource]["read"]), (permissions.key, resource)


def test_user_writes_check_every_reference():
    """Each foreign key a user may set on a fleet's row is held to their read rule."""
    for resource in ("image_install", "service_install", "release_image", "device"):
        for action in ("create", "update"):
            rule = str(rules.USER.rules[resource][action])
            for fk in {"image_install": ("installs__image", "is_provided_by__release"),
                       "service_install": ("installs__service",), "release_image": ("image",),
                       "device": ("is_pinned_on__release", "should_be_operated_by__release")}[resource]:
                assert f"{fk}/any(fk:" in rule, (resource, action, fk)


def test_through_builds_nested_lambdas():
    assert rules.through((), rules.public_fleet) == "is_public eq true"
    assert rules.through(("release", "belongs_to__application"), rules.public_fleet) == (
        "release/any(n1:n1/belongs_to__application/any(n2:n2/is_public eq true))")
