"""v6's model as derived from v7's table of differences, without a database: what it shows,
hides and adds, that v7 is left as it was, that every permission rule still resolves
against it, and how the table's entries behave on a small model."""

from __future__ import annotations

import pytest

from fleetyard.auth import permissions as rules
from fleetyard.model.balena import MODEL as V7
from fleetyard.model.schema import Field, Model, Navigation, Resource
from fleetyard.odata.parser import parse
from fleetyard.odata.resolve import Resolver
from fleetyard.versions import v6
from fleetyard.versions.table import (
    Add,
    Alias,
    Differences,
    Hide,
    HideNav,
    Replace,
    derive,
    write_renames,
)

V6 = v6.model()
METHOD = {"read": "GET", "create": "POST", "update": "PATCH", "delete": "DELETE"}


def shown(resource: str) -> set[str]:
    r = V6.resource(resource)
    return {f.name for f in r.fields if f.readable} | {n.name for n in r.navigations if not n.hidden}


def test_v6_has_what_v7_removed_and_not_what_v7_added():
    device = shown("device")
    assert {"logs_channel", "vpn_channel", "vpn_address", "is_managed_by__device", "manages__device",
            "downloads__image", "should_be_managed_by__supervisor_release"} <= device
    assert not {"is_pinned_on__release", "should_be_managed_by__release",
                "changed_api_heartbeat_state_on__date"} & device
    assert {"depends_on__application", "is_depended_on_by__application",
            "is_dependent_on_by__application"} <= shown("application")
    assert "release_type" in shown("release") and "is_final" in shown("release")
    assert "is_pinned_to__device" not in shown("release") and "release_asset" not in shown("release")
    assert "should_be_running__release" in shown("device_history")
    assert "is_pinned_on__release" not in shown("device_history")
    for name in ("my_application", "gateway_download", "supervisor_release"):
        assert V6.get(name) is not None and V7.get(name) is None
    assert V6.get("release_asset") is None and V7.get("release_asset") is not None


def test_v7_is_left_as_it_was():
    device = V7.resource("device")
    assert device.field("is_pinned_on__release").readable
    assert device.field("actor").references == "actor"
    assert device.field("logs_channel") is None and V7.resource("release").field("release_type") is None
    assert V6.resource("device").field("actor").references is None


def test_hidden_stored_fields_stay_writable_for_the_rules():
    device = V6.resource("device")
    for name in ("is_pinned_on__release", "should_be_managed_by__release"):
        f = device.field(name)
        assert f is not None and not f.readable and f.is_writable
    assert not device.field("should_be_running__release").is_writable  # a rename, written by translation


def test_renames_are_written_to_the_canonical_field():
    assert write_renames(v6.TABLE) == {
        "device": {"should_be_running__release": "is_pinned_on__release",
                   "should_be_managed_by__supervisor_release": "should_be_managed_by__release"},
        "device_history": {"should_be_running__release": "is_pinned_on__release"},
    }


SETS = [rules.USER, rules.GUEST, rules.DEVICE, rules.PROVISIONING]


@pytest.mark.parametrize("permissions", SETS, ids=[p.key for p in SETS])
def test_every_rule_resolves_against_v6(permissions):
    """The rules speak v7's names; v6 hides what it does not show, so they still hold."""
    names = [r for r in permissions.rules if V6.get(r) is not None]
    names += [r.name for r in V6.resources.values() if r.rules_from]
    for resource in names:
        owner = V6.resource(resource).rules_from or resource
        for action in permissions.rules.get(owner, {}):
            req = parse(f"/{resource}")
            Resolver(V6, permissions, req.binds).resolve(req, METHOD[action])


# --- the table's entries on a small model ---------------------------------------------------

SMALL = Model([
    Resource("box", (Field("id", "Serial", required=True), Field("colour", "Short Text"),
                     Field("lid", "Integer", references="lid"), Field("size", "Integer")),
             (Navigation("lid", "lid", "lid", "id", many=False),)),
    Resource("lid", (Field("id", "Serial", required=True),),
             (Navigation("covers__box", "box", "id", "lid", many=True),)),
])


def test_each_kind_of_entry():
    old = derive(SMALL, Differences({
        "box": (Alias("top", "lid"), Hide("size"), Replace(Field("colour", "Text", computed=lambda ctx: None)),
                Add(Field("label", "Text", computed=lambda ctx: None))),
        "lid": (HideNav("covers__box"),),
    }))
    box = old.resource("box")
    assert [f.name for f in box.fields] == ["id", "colour", "lid", "top", "size", "label"]
    assert not box.field("lid").readable and not box.field("size").readable
    assert box.field("top").references == "lid" and box.field("top").computed is not None
    assert [(n.name, n.hidden) for n in box.navigations] == [("lid", True), ("top", False)]
    assert box.names() == ["id", "colour", "lid", "top", "size", "label", "top"]
    assert [(n.name, n.hidden) for n in old.resource("lid").navigations] == [("covers__box", True)]
    assert SMALL.resource("box").field("lid").readable  # the canonical model is untouched


def test_a_removed_resource_takes_the_navigations_into_it():
    old = derive(SMALL, Differences({}, removed=("lid",)))
    box = old.resource("box")
    assert old.get("lid") is None and box.navigations == ()
    assert not box.field("lid").readable and box.field("lid").references is None


def test_the_table_must_name_what_exists():
    with pytest.raises(ValueError, match="no field 'nope'"):
        derive(SMALL, Differences({"box": (Hide("nope"),)}))
    with pytest.raises(ValueError, match="does not have"):
        derive(SMALL, Differences({"crate": ()}))


def test_hidden_names_are_for_the_servers_own_filters_only():
    from fleetyard.errors import UnknownName
    from fleetyard.odata.permissions import Permissions

    pins = Permissions({"device": {"read": "is_pinned_on__release/any(r:r/status eq 'success')"}}, key="pins")
    for url in ("/device?$filter=is_pinned_on__release eq null", "/device?$expand=is_pinned_on__release",
                "/release?$expand=is_pinned_to__device"):
        req = parse(url)
        with pytest.raises(UnknownName):
            Resolver(V6, Permissions.all(), req.binds).resolve(req)
    req = parse("/device")
    Resolver(V6, pins, req.binds).resolve(req)
