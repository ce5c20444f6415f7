"""The v7 migration guide, bullet by bullet, in both directions: one table whose rows are a
request, what /v6 answers and what /v7 answers, sent over HTTP as alice on SQLite and on
PostgreSQL (spec/seeds/003: the guide; spec/versions.md §5; decisions.md "Versions").

A row may give v7 a request of its own (the guide's replacement); otherwise both versions
get the same one. Rows run in order on one world, v6 first: a write row leaves what the
next row reads. `{name}` in a URL or body is the world's id of that name; in an expected
value a whole string `"{name}"` is that id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from fleetyard.versions.v6_writes import RELEASE_CONFLICT, RELEASE_TYPE
from tests.versions.conftest import BIG, CONTRACT

EMPTY = object()  # the answer has no body
ROWS_OF_ITS_OWN = object()  # {"d": [...]} with at least one row


@dataclass(frozen=True)
class Has:
    """A JSON string answer (an error message) holding this text."""

    text: str


@dataclass(frozen=True)
class Some:
    """An object holding at least these keys with these values (a created entity)."""

    fields: dict


@dataclass(frozen=True)
class Ask:
    method: str
    url: str
    body: Any = None


def get(url: str) -> Ask:
    return Ask("GET", url)


@dataclass(frozen=True)
class Row:
    bullet: str
    ask: Ask
    v6: tuple[int, Any]
    v7: tuple[int, Any]
    v7_ask: Ask | None = None  # v7's own request (the guide's replacement)


def d(*rows: Any) -> dict:
    return {"d": list(rows)}


UNKNOWN = Has("unknown ")  # the 400 of a name v7 does not know
NOTHING_TO_WRITE = Has("No fields to update")
STATUS = "overall_status"
OUT = "/device({offline})?$select=overall_status"
ALICE_FLEET = "belongs_to__application eq {fleet}"

ROWS: list[Row] = [
    # --- device.overall_status: offline → disconnected, idle → operational | reduced-functionality
    Row("overall_status", get("/device({offline})?$select=overall_status"),
        (200, d({STATUS: "offline"})), (200, d({STATUS: "disconnected"}))),
    Row("overall_status", get("/device({online})?$select=overall_status"),
        (200, d({STATUS: "idle"})), (200, d({STATUS: "operational"}))),
    Row("overall_status", get("/device({half})?$select=overall_status"),
        (200, d({STATUS: "idle"})), (200, d({STATUS: "reduced-functionality"}))),
    Row("overall_status: filters on the old values", get("/device?$select=id&$filter=overall_status eq 'offline'"),
        (200, d({"id": "{offline}"})), (200, d())),
    Row("overall_status: filters on the old values", get("/device?$select=id&$filter=overall_status eq 'idle'"),
        (200, d({"id": "{online}"}, {"id": "{half}"})), (200, d({"id": "{online}"}, {"id": "{half}"})),
        get("/device?$select=id&$filter=overall_status in ('operational', 'reduced-functionality')")),
    Row("overall_status: filters on the old values", get("/device?$select=id&$filter=overall_status eq 'idle'"),
        (200, d({"id": "{online}"}, {"id": "{half}"})), (200, d())),
    Row("overall_status: filters on the old values",
        get("/device?$select=id&$filter=overall_status eq 'disconnected'"), (200, d()), (200, d({"id": "{offline}"}))),
    # --- $select / $expand of an unknown name: ignored in v6, a 4xx in v7
    Row("unknown $select", get("/device({device})?$select=id,no_such_field"),
        (200, d({"id": "{device}"})), (400, Has("unknown field 'no_such_field'"))),
    Row("unknown $expand", get("/device({device})?$select=id&$expand=no_such_navigation"),
        (200, d({"id": "{device}"})), (400, Has("unknown navigation 'no_such_navigation'"))),
    # --- device.should_be_running__release: v6 the writable pin, v7 the read-only target
    Row("should_be_running__release: a tracking device", get("/device({device})?$select=should_be_running__release"),
        (200, d({"should_be_running__release": None})),
        (200, d({"should_be_running__release": {"__id": "{latest}"}}))),
    Row("is_pinned_on__release is v7's pin", get("/device({pinned})?$select=is_pinned_on__release"),
        (200, d({})), (200, d({"is_pinned_on__release": {"__id": "{release}"}}))),
    Row("should_be_running__release: v6 pins",
        Ask("PATCH", "/device({online})", {"should_be_running__release": "{release}"}),
        (200, "OK"), (400, NOTHING_TO_WRITE)),
    Row("should_be_running__release: the pin held",
        get("/device({online})?$select=should_be_running__release"),
        (200, d({"should_be_running__release": {"__id": "{release}"}})),
        (200, d({"is_pinned_on__release": {"__id": "{release}"}})),
        get("/device({online})?$select=is_pinned_on__release")),
    Row("should_be_running__release: unpinning",
        Ask("PATCH", "/device({online})", {"should_be_running__release": None}),
        (200, "OK"), (200, EMPTY), Ask("PATCH", "/device({online})", {"is_pinned_on__release": None})),
    Row("should_be_running__release: tracking again", get("/device({online})?$select=should_be_running__release"),
        (200, d({"should_be_running__release": None})),
        (200, d({"should_be_running__release": {"__id": "{latest}"}}))),
    Row("device_history.should_be_running__release",
        get("/device_history({history})?$select=should_be_running__release"),
        (200, d({"should_be_running__release": {"__id": "{release}"}})),
        (200, d({"is_pinned_on__release": {"__id": "{release}"}})),
        get("/device_history({history})?$select=is_pinned_on__release")),
    Row("device_history.should_be_running__release",
        get("/device_history({history})?$select=should_be_running__release"),
        (200, d({"should_be_running__release": {"__id": "{release}"}})), (400, UNKNOWN)),
    # --- actor: a number in v6, {"__id": n} in v7 (application, device, user)
    Row("application.actor", get("/application({fleet})?$select=actor"),
        (200, d({"actor": "{fleet_actor}"})), (200, d({"actor": {"__id": "{fleet_actor}"}}))),
    Row("device.actor", get("/device({device})?$select=actor"),
        (200, d({"actor": "{device_actor}"})), (200, d({"actor": {"__id": "{device_actor}"}}))),
    Row("user.actor", get("/user({user})?$select=actor"),
        (200, d({"actor": "{actor}"})), (200, d({"actor": {"__id": "{actor}"}}))),
    # --- removed fields and resources: null or empty in v6, unknown in v7
    *(Row(f"device.{name}", get(f"/device({{device}})?$select={name}"), (200, d({name: None})), (400, UNKNOWN))
      for name in ("logs_channel", "vpn_channel", "vpn_address", "is_managed_by__device")),
    *(Row(f"device.{name}", get(f"/device({{device}})?$select=id&$expand={name}"),
          (200, d({name: [], "id": "{device}"})), (400, UNKNOWN))
      for name in ("is_managed_by__device", "manages__device", "downloads__image")),
    Row("application.depends_on__application", get("/application({fleet})?$select=depends_on__application"),
        (200, d({"depends_on__application": None})), (400, UNKNOWN)),
    *(Row(f"application.{name}", get(f"/application({{fleet}})?$select=id&$expand={name}"),
          (200, d({name: [], "id": "{fleet}"})), (400, UNKNOWN))
      for name in ("depends_on__application", "is_dependent_on_by__application", "is_depended_on_by__application")),
    Row("gateway_download", get("/gateway_download"), (200, d()), (401, Has("gateway_download"))),
    # --- release.should_be_running_on__device (v6: pinned) vs is_pinned_to__device (v7)
    Row("release.should_be_running_on__device",
        get("/release({release})?$select=id&$expand=should_be_running_on__device($select=id)"),
        (200, d({"should_be_running_on__device": [{"id": "{pinned}"}], "id": "{release}"})),
        (200, d({"is_pinned_to__device": [{"id": "{pinned}"}], "id": "{release}"})),
        get("/release({release})?$select=id&$expand=is_pinned_to__device($select=id)")),
    Row("release.should_be_running_on__device is v7's effective target",
        get("/release({latest})?$select=id&$expand=should_be_running_on__device/$count"),
        (200, d({"should_be_running_on__device": 0, "id": "{latest}"})),
        (200, d({"should_be_running_on__device": 4, "id": "{latest}"}))),
    Row("release.is_pinned_to__device", get("/release({release})?$select=id&$expand=is_pinned_to__device($select=id)"),
        (200, d({"id": "{release}"})), (200, d({"is_pinned_to__device": [{"id": "{pinned}"}], "id": "{release}"}))),
    # --- release.release_type ('final' / 'draft') vs release.is_final
    Row("release.release_type", get("/release({release})?$select=release_type"),
        (200, d({"release_type": "final"})), (200, d({"is_final": True})), get("/release({release})?$select=is_final")),
    Row("release.release_type", get("/release({draft})?$select=release_type"),
        (200, d({"release_type": "draft"})), (400, UNKNOWN)),
    Row("release.release_type in a filter", get(f"/release?$select=id&$filter={ALICE_FLEET} and release_type eq 'draft'"),
        (200, d({"id": "{draft}"})), (200, d({"id": "{draft}"})),
        get(f"/release?$select=id&$filter={ALICE_FLEET} and is_final eq false")),
    Row("release.release_type: only 'final' or 'draft'", Ask("PATCH", "/release({draft})", {"release_type": "beta"}),
        (400, RELEASE_TYPE), (400, NOTHING_TO_WRITE)),
    Row("release.release_type: agrees with is_final",
        Ask("PATCH", "/release({draft})", {"release_type": "final", "is_final": False}),
        (400, RELEASE_CONFLICT), (200, EMPTY)),
    Row("release.release_type is writable", Ask("PATCH", "/release({draft})", {"release_type": "final"}),
        (200, "OK"), (200, EMPTY), Ask("PATCH", "/release({draft})", {"is_final": True})),
    Row("release.release_type is writable", get("/release({draft})?$select=release_type"),
        (200, d({"release_type": "final"})), (200, d({"is_final": True})), get("/release({draft})?$select=is_final")),
    # --- the device_type convenience key on POST device / application
    Row("POST application with device_type",
        Ask("POST", "/application", {"app_name": "typed", "organization": "{organization}",
                                     "device_type": "raspberrypi4-64"}),
        (201, Some({"app_name": "typed", "is_for__device_type": {"__id": "{device_type}"}})),
        (400, Has('"is_for__device_type" is required'))),
    Row("POST application with an unknown device_type",
        Ask("POST", "/application", {"app_name": "untyped", "organization": "{organization}",
                                     "device_type": "no-such-type"}),
        (404, "Unknown device type no-such-type"), (400, Has('"is_for__device_type" is required'))),
    Row("POST device with device_type",
        Ask("POST", "/device", {"belongs_to__application": "{fleet}", "device_name": "typed_device",
                                "device_type": "raspberrypi4-64"}),
        (201, Some({"device_name": "typed_device", "is_of__device_type": {"__id": "{device_type}"}})),
        (400, Has('"is_of__device_type"'))),
    # --- my_application vs application?$filter=is_directly_accessible_by__user/any(dau:true)
    Row("my_application", get("/my_application?$select=id&$orderby=id asc"),
        (200, d({"id": "{fleet}"}, {"id": "{typed}"})), (200, d({"id": "{fleet}"}, {"id": "{typed}"})),
        get("/application?$select=id&$orderby=id asc&$filter=is_directly_accessible_by__user/any(dau:true)")),
    Row("my_application", get("/my_application"), (200, ROWS_OF_ITS_OWN), (401, Has("my_application"))),
    # --- supervisor_release vs releases of the public supervisor fleets
    Row("supervisor_release", get("/supervisor_release?$select=id,supervisor_version,image_name,is_public,note"),
        (200, d({"id": "{supervisor}", "supervisor_version": "14.11.2",
                 "image_name": "registry/balena_os/aarch64-supervisor:14.11.2", "is_public": True,
                 "note": "the supervisor"})),
        (200, d({"id": "{supervisor}", "raw_version": "14.11.2", "note": "the supervisor"})),
        get("/release?$select=id,raw_version,note"
            "&$filter=belongs_to__application/any(a:a/slug eq 'balena_os/aarch64-supervisor')")),
    Row("supervisor_release", get("/supervisor_release"), (200, ROWS_OF_ITS_OWN), (401, Has("supervisor_release"))),
    Row("device.should_be_managed_by__supervisor_release",
        Ask("PATCH", "/device({device})", {"should_be_managed_by__supervisor_release": "{supervisor}"}),
        (200, "OK"), (200, EMPTY),
        Ask("PATCH", "/device({device})", {"should_be_managed_by__release": "{supervisor}"})),
    Row("device.should_be_managed_by__supervisor_release",
        get("/device({device})?$select=should_be_managed_by__supervisor_release"),
        (200, d({"should_be_managed_by__supervisor_release": {"__id": "{supervisor}"}})),
        (200, d({"should_be_managed_by__release": {"__id": "{supervisor}"}})),
        get("/device({device})?$select=should_be_managed_by__release")),
    Row("device.should_be_managed_by__supervisor_release",
        get("/device({device})?$select=should_be_managed_by__supervisor_release"),
        (200, d({"should_be_managed_by__supervisor_release": {"__id": "{supervisor}"}})), (400, UNKNOWN)),
    # --- organization: required on POST application in v7, the caller's own in v6
    Row("POST application without organization",
        Ask("POST", "/application", {"app_name": "no_org", "is_for__device_type": "{device_type}"}),
        (201, Some({"app_name": "no_org", "organization": {"__id": "{organization}"}})),
        (400, '"organization" is required to create a fleet')),
    # --- PATCH (and PUT, DELETE) answer "OK" in v6, nothing in v7
    Row("PATCH answers", Ask("PATCH", "/device({device})", {"note": "hello"}), (200, "OK"), (200, EMPTY)),
    Row("PUT answers", Ask("PUT", "/device_tag({device_tag})",
                           {"device": "{device}", "tag_key": "owner", "value": "alice"}), (200, "OK"), (200, EMPTY)),
    Row("DELETE answers", Ask("DELETE", "/device_tag?$filter=tag_key eq 'no such key'"), (200, "OK"), (200, EMPTY)),
    # --- what the guide leaves out (spec/versions.md §5.8): image_size and release.contract
    Row("image.image_size", get("/image({image})?$select=image_size"),
        (200, d({"image_size": BIG})), (200, d({"image_size": str(BIG)}))),
    Row("release.contract", get("/release({latest})?$select=contract"),
        (200, d({"contract": orjson.dumps(CONTRACT).decode()})), (200, d({"contract": CONTRACT}))),
]

_WHOLE = re.compile(r"\{(\w+)\}\Z")


def fill(value: Any, ids: dict) -> Any:
    """`"{name}"` → the id; dicts and lists throughout."""
    if isinstance(value, str):
        m = _WHOLE.match(value)
        return ids[m.group(1)] if m else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, tuple):
        return tuple(fill(v, ids) for v in value)
    if isinstance(value, Some):
        return Some(fill(value.fields, ids))
    return value


def differs(expected: Any, status: int, content: bytes) -> str | None:
    """Why the answer is not the expected one; None when it is."""
    want_status, want = expected
    if status != want_status:
        return f"status {status}, expected {want_status}: {content[:300]!r}"
    if want is EMPTY:
        return None if content == b"" else f"a body, expected none: {content[:300]!r}"
    if not content:
        return "no body"
    body = orjson.loads(content)
    if isinstance(want, Has):
        ok = isinstance(body, str) and want.text in body
    elif isinstance(want, Some):
        ok = isinstance(body, dict) and all(body.get(k) == v for k, v in want.fields.items())
    elif want is ROWS_OF_ITS_OWN:
        ok = isinstance(body, dict) and isinstance(body.get("d"), list) and bool(body["d"])
    else:
        ok = body == want
    return None if ok else f"answered {body!r}, expected {want!r}"


async def test_the_migration_guide_in_both_versions(client, world):
    ids = dict(world.ids)
    ids["device_tag"] = world.alice.ids["device_tag"]
    failures: list[str] = []
    for i, row in enumerate(ROWS):
        for version, ask, expected in (("v6", row.ask, row.v6), ("v7", row.v7_ask or row.ask, row.v7)):
            url = f"/{version}" + ask.url.format_map(ids)
            body = fill(ask.body, ids)
            r = await client.request(ask.method, url, content=None if body is None else orjson.dumps(body),
                                     headers={"Content-Type": "application/json"})
            if ask.method == "POST" and r.status_code == 201:  # later rows name what it made
                created = orjson.loads(r.content)
                ids[created.get("app_name") or created["device_name"]] = created["id"]
            why = differs(fill(expected, ids), r.status_code, r.content)
            if why is not None:
                failures.append(f"row {i} [{row.bullet}] {ask.method} {url}: {why}")
    assert not failures, "\n".join(failures)
