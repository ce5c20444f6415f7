"""The isolation matrix, generated from the model: for EVERY resource of balena's model, a
member of one organization reads, counts, changes and deletes nothing of the other's —
GET by key and by alternate key, $filter through every navigation, $expand along every
navigation, /$count, PATCH and DELETE by key and by $filter, and POST pointing at the
other organization's rows. On SQLite and PostgreSQL.

Nothing here asks the permission rules who owns what: a row belongs to a tenant when it
appeared while that tenant's world was being made (a snapshot of every table before and
after). Every resource of the model is either made in each world, shared by everyone (the
catalogue, the role names), or refused to users altogether — and a new resource that is
none of these fails `test_every_resource_is_in_the_matrix`, so none escapes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from fleetyard.api import create_app
from fleetyard.auth import api_keys
from fleetyard.auth import permissions as rules
from fleetyard.auth.users import create_user, ensure_roles
from fleetyard.model.balena import MODEL
from fleetyard.model.schema import Resource
from tests.api.conftest import engine_factory, serving
from tests.auth.conftest import ALL, AUTH, PASSWORD, START, Tenant, d, one_id, tenant

# Readable by every user alike, written by no user: the same rows for both tenants.
SHARED = {*rules.CATALOGUE, "organization_membership_role", "application_membership_role", "service_instance"}
# Defined by a query, without an id of its own (model.md §1.35): checked through its filters.
VIRTUAL = {name for name, r in MODEL.resources.items() if r.query is not None}


def denied(resource: str) -> bool:
    """No user right at all: every request is a 401."""
    return all(rules.USER.rule(resource, a) is False for a in ("read", "create", "update", "delete"))


def tenant_resources() -> list[str]:
    return sorted(n for n in MODEL.resources if n not in SHARED and not denied(n))


@dataclass
class Side:
    """A tenant and every row that is theirs, resource by resource."""

    t: Tenant
    rows: dict[str, list[int]] = field(default_factory=dict)

    def first(self, resource: str) -> int | None:
        ids = self.rows.get(resource) or []
        return ids[0] if ids else None


async def all_ids(engine) -> dict[str, set]:
    out: dict[str, set] = {}
    for name, r in MODEL.resources.items():
        if r.query is None:
            out[name] = {row["id"] for row in await d(engine, f"/{name}?$select=id")}
    return out


async def more_rows(engine, t: Tenant) -> None:
    """One row of every tenant resource `tenant()` does not make yet."""
    async def post(resource: str, body: dict[str, Any]) -> int:
        row = await engine.post(f"/{resource}", body, ALL)
        t.ids[resource] = row["id"]
        return row["id"]

    u = t.username
    await post("application_config_variable", {"application": t.fleet, "name": "RESIN_X", "value": u})
    await post("build_environment_variable", {"application": t.fleet, "name": "BUILD", "value": u})
    await post("device_config_variable", {"device": t.device, "name": "RESIN_Y", "value": u})
    service = await post("service", {"application": t.fleet, "service_name": "main"})
    await post("service_label", {"service": service, "label_name": "owner", "value": u})
    await post("service_environment_variable", {"service": service, "name": "OWNER", "value": u})
    image = await post("image", {"is_a_build_of__service": service, "start_timestamp": START, "status": "success",
                                 "is_stored_at__image_location": f"registry/{u}"})
    release_image = await post("release_image", {"image": image, "is_part_of__release": t.release})
    await post("image_label", {"release_image": release_image, "label_name": "owner", "value": u})
    await post("image_environment_variable", {"release_image": release_image, "name": "OWNER", "value": u})
    await post("image_install", {"device": t.device, "installs__image": image, "install_date": START,
                                 "status": "Running", "is_provided_by__release": t.release})
    installs = await d(engine, f"/service_install?$select=id&$filter=device eq {t.device}")
    install = installs[0]["id"] if installs else await post(
        "service_install", {"device": t.device, "installs__service": service})
    await post("device_service_environment_variable", {"service_install": install, "name": "OWNER", "value": u})
    await post("release_asset", {"release": t.release, "asset_key": "notes"})
    await post("user_public_key", {"user": t.user, "public_key": f"ssh-ed25519 AAAA{u}", "title": u})
    # a developer of the fleet, and keys of the user and the fleet
    dev = await create_user(engine, f"{u}_dev", PASSWORD)
    role = await one_id(engine, "/application_membership_role?$filter=name eq 'developer'")
    await post("user_application_membership", {"user": dev.id, "is_member_of__application": t.fleet,
                                                "application_membership_role": role})
    await api_keys.create(engine, t.actor, name="mine")
    [fleet] = await d(engine, f"/application({t.fleet})?$select=actor")
    await api_keys.create(engine, fleet["actor"]["__id"], name="provisioning")


@dataclass
class Matrix:
    alice: Side
    bob: Side

    def pairs(self) -> Iterator[tuple[Side, Side]]:
        yield self.alice, self.bob
        yield self.bob, self.alice


@pytest.fixture
async def matrix(engine) -> Matrix:
    await ensure_roles(engine)
    sides = []
    for name in ("alice", "bob"):
        before = await all_ids(engine)
        t = await tenant(engine, name)
        await more_rows(engine, t)
        after = await all_ids(engine)
        sides.append(Side(t, {n: sorted(after[n] - before[n]) for n in after if n not in SHARED}))
    return Matrix(*sides)


@pytest.fixture
async def client(engine, matrix: Matrix):
    """The server over the matrix's two worlds (conftest's own `client` makes another)."""
    async with serving(create_app(engine_factory(engine), auth=AUTH)) as c:
        yield c


class Findings:
    """Every leak found, reported together (one failing request would hide the rest)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.checks = 0

    def check(self, ok: bool, what: str) -> None:
        self.checks += 1
        if not ok:
            self.items.append(what)

    def done(self, at_least: int) -> None:
        assert not self.items, f"{len(self.items)} leaks:\n" + "\n".join(self.items[:80])
        assert self.checks >= at_least, f"only {self.checks} checks ran"
        print(f"{self.checks} checks")


async def get(client, url: str, me: Side) -> tuple[int, Any]:
    r = await client.get(url, headers=me.t.headers)
    return r.status_code, (r.json()["d"] if r.status_code == 200 else None)


def navigations(r: Resource) -> list:
    """One navigation per distinct way (synonyms lead to the same rows)."""
    seen, out = set(), []
    for nav in r.navigations:
        way = (nav.target, nav.local, nav.remote)
        if way not in seen:
            seen.add(way)
            out.append(nav)
    return out


# --- the model is covered --------------------------------------------------------------------


async def test_every_resource_is_in_the_matrix(matrix: Matrix):
    for name in tenant_resources():
        for side in (matrix.alice, matrix.bob):
            assert side.rows.get(name) or name in VIRTUAL, f"no row of {name!r} in {side.t.username}'s world"
    for name in MODEL.resources:
        assert name in SHARED or denied(name) or name in tenant_resources(), name


# --- reads ---------------------------------------------------------------------------------


async def test_reads_by_key_alternate_key_collection_and_count(client, engine, matrix: Matrix):
    f = Findings()
    for me, other in matrix.pairs():
        for name in tenant_resources():
            if name in VIRTUAL:
                continue
            r = MODEL.resources[name]
            theirs = other.rows[name]
            status, rows = await get(client, f"/v7/{name}?$select=id", me)
            f.check(status == 200, f"{me.t.username} GET {name}: {status}")
            seen = {row["id"] for row in rows or []}
            f.check(not seen & set(theirs), f"{me.t.username} lists {other.t.username}'s {name} {seen & set(theirs)}")
            f.check(bool(seen & set(me.rows[name])) or name == "actor",
                    f"{me.t.username} cannot list their own {name}")
            ids = ",".join(map(str, theirs))
            status, count = await get(client, f"/v7/{name}/$count?$filter=id in ({ids})", me)
            f.check(count == 0, f"{me.t.username} counts {count} of {other.t.username}'s {name}")
            status, count = await get(client, f"/v7/{name}/$count", me)
            f.check(count == len(seen), f"{me.t.username} {name}/$count {count} != {len(seen)} listed")
            for row_id in theirs:
                status, rows = await get(client, f"/v7/{name}({row_id})", me)
                f.check(status == 200 and rows == [], f"{me.t.username} GET {name}({row_id}): {status} {rows}")
            # alternate keys: single unique fields and unique field pairs, as the other's row holds them
            keys = [(fl.name,) for fl in r.fields if fl.unique and fl.readable and fl.name != r.id_field]
            keys += [tuple(k) for k in r.unique_together]
            for row_id in theirs[:2]:
                [full] = await d(engine, f"/{name}({row_id})")
                for key in keys:
                    parts = []
                    for k in key:
                        v = full[k]["__id"] if isinstance(full[k], dict) else full[k]
                        if v is None:
                            break
                        parts.append(f"{k}={v}" if isinstance(v, int) else f"{k}='{_lit(v)}'")
                    else:
                        status, rows = await get(client, f"/v7/{name}({','.join(parts)})", me)
                        f.check(status == 200 and rows == [], f"{me.t.username} GET {name}({parts}): {status} {rows}")
    f.done(at_least=1)


def _lit(v: object) -> str:
    from urllib.parse import quote

    return quote(str(v).replace("'", "''"), safe="")


async def test_filters_and_expansions_through_every_navigation(client, engine, matrix: Matrix):
    """From every resource one may read, along every navigation to a resource the other
    tenant has rows of: a $filter naming the other's row matches nothing, and an $expand
    (or its $count) shows none of the other's rows."""
    f = Findings()
    for me, other in matrix.pairs():
        for name, r in MODEL.resources.items():
            if denied(name):
                continue
            for nav in navigations(r):
                target = other.first(nav.target)
                if target is None:
                    continue
                url = f"/v7/{name}?$select={r.id_field if r.query is None else 'user'}"
                status, rows = await get(client, f"{url}&$filter={nav.name}/any(x:x/id eq {target})", me)
                f.check(status in (200, 401) and not rows,
                        f"{me.t.username} {name}?$filter={nav.name}/any(id eq {other.t.username}'s {target}): "
                        f"{status} {rows}")
                theirs = set(other.rows.get(nav.target, []))
                status, rows = await get(client, f"{url}&$expand={nav.name}($select=id)", me)
                if status == 401:
                    f.check(denied(nav.target), f"{me.t.username} {name} $expand={nav.name}: 401")
                    continue
                shown = {x["id"] for row in rows or [] for x in row[nav.name]}
                f.check(not shown & theirs, f"{me.t.username} {name} $expand={nav.name} shows {shown & theirs}")
                if nav.many:
                    status, rows = await get(client, f"{url}&$expand={nav.name}/$count", me)
                    exp = await get(client, f"{url}&$expand={nav.name}($select=id)", me)
                    counts = [row[nav.name] for row in rows or []]
                    f.check(counts == [len(row[nav.name]) for row in exp[1] or []],
                            f"{me.t.username} {name} $expand={nav.name}/$count counts hidden rows")
    f.done(at_least=1)


# --- writes --------------------------------------------------------------------------------


async def snapshot(engine, side: Side) -> dict[str, str]:
    """Every stored field of every row of the side's, as text."""
    out = {}
    for name, ids in side.rows.items():
        r = MODEL.resources[name]
        if not ids or r.query is not None:
            continue
        fields = ",".join(fl.name for fl in r.fields if fl.computed is None and fl.readable)
        out[name] = await engine.get(f"/{name}?$select={fields}&$filter=id in ({','.join(map(str, ids))})", ALL)
    return out


def patch_body(r: Resource, mine: Side) -> dict[str, Any] | None:
    """A change of one writable field of `r`: a value of its type, else one's own row."""
    writable = [fl for fl in r.fields if fl.is_writable and fl.computed is None and fl.name != r.id_field]
    for fl in writable:
        value = {"Short Text": "hijacked", "Text": "hijacked", "Integer": 7, "Big Integer": 7, "Real": 1.5,
                 "Boolean": True, "Date Time": "2020-01-01T00:00:00.000Z", "JSON": {}}.get(fl.type)
        if fl.references is None and value is not None:
            return {fl.name: value}
    for fl in writable:
        own = mine.first(fl.references) if fl.references is not None else None
        if own is not None:
            return {fl.name: own}
    return None


async def test_patch_and_delete_change_nothing_of_the_other(client, engine, matrix: Matrix):
    f = Findings()
    for me, other in matrix.pairs():
        before = await snapshot(engine, other)
        h = me.t.headers
        for name in tenant_resources():
            r = MODEL.resources[name]
            theirs = other.rows.get(name) or []
            if r.query is not None or not theirs:
                continue
            body = patch_body(r, me)
            ids = ",".join(map(str, theirs))
            if body is not None:
                for url in [f"/v7/{name}({i})" for i in theirs] + [f"/v7/{name}?$filter=id in ({ids})"]:
                    resp = await client.patch(url, json=body, headers=h)
                    f.check(resp.status_code in (200, 401), f"{me.t.username} PATCH {url}: {resp.status_code}")
            for url in [f"/v7/{name}({theirs[0]})", f"/v7/{name}?$filter=id in ({ids})"]:
                resp = await client.delete(url, headers=h)
                f.check(resp.status_code in (200, 401, 404), f"{me.t.username} DELETE {url}: {resp.status_code}")
                if resp.status_code == 404:  # only a fleet by key: the reference's "not found"
                    f.check(name == "application", f"{me.t.username} DELETE {url}: 404")
        after = await snapshot(engine, other)
        for name in before:
            f.check(before[name] == after[name], f"{me.t.username} changed {other.t.username}'s {name}")
    f.done(at_least=1)


# A membership may name any user: an administrator adds a person to their own organization
# or fleet, which reads and changes nothing of that person's.
ANY_USER = {("organization_membership", "user"), ("user_application_membership", "user")}
# Rows a deleted device leaves behind by design: its actor and its history (model.md §7).
OUTLIVE = {"actor", "device_history"}


async def test_posts_pointing_at_the_other_are_refused(client, engine, matrix: Matrix):
    """Each of one's own rows again (its unique fields left out), with one foreign key at a
    time moved to the other tenant's row of the same resource: refused, or — where the
    server sets that key itself — made without pointing at the other's row. And each of
    one's own rows PATCHed to point there: refused, unchanged."""
    f = Findings()
    for me, other in matrix.pairs():
        counts = {n: await d(engine, f"/{n}/$count") for n in tenant_resources() if n not in VIRTUAL}
        for name in tenant_resources():
            r = MODEL.resources[name]
            mine = me.first(name)
            if r.query is not None or mine is None:
                continue
            rows_now = await d(engine, f"/{name}({mine})")
            assert rows_now, (me.t.username, name, mine)
            [row] = rows_now
            base = {fl.name: (row[fl.name]["__id"] if fl.references is not None and row[fl.name] else row[fl.name])
                    for fl in r.fields if fl.is_writable and fl.computed is None and fl.name in row and not fl.unique}
            base = {k: v for k, v in base.items() if v is not None}
            for fl in r.fields:
                if fl.references is None or fl.name not in base or base[fl.name] not in me.rows.get(fl.references, []):
                    continue
                target = other.first(fl.references)
                if target is None:
                    continue
                resp = await client.post(f"/v7/{name}", json={**base, fl.name: target}, headers=me.t.headers)
                what = f"{me.t.username} POST {name} with {fl.name}={other.t.username}'s {target}"
                if resp.status_code == 201:
                    made = resp.json()["id"]
                    [stored] = await d(engine, f"/{name}({made})?$select={fl.name}")
                    points = (stored[fl.name] or {}).get("__id") == target
                    f.check(not points or (name, fl.name) in ANY_USER, f"{what}: 201, made pointing at it")
                    await engine.delete(f"/{name}({made})", ALL)
                elif resp.status_code == 409:  # a clash of one's own values (a slug) is no leak
                    f.check(f'"{fl.name}"' not in resp.text, f"{what}: 409 {resp.text[:120]}")
                else:
                    f.check(resp.status_code in (400, 401, 403, 404), f"{what}: {resp.status_code} {resp.text[:120]}")
                # and one's own row re-pointed at it: refused, the row as it was
                before = await engine.get(f"/{name}({mine})?$select={fl.name}", ALL)
                resp = await client.patch(f"/v7/{name}({mine})", json={fl.name: target}, headers=me.t.headers)
                what = f"{me.t.username} PATCH {name}({mine}) {fl.name}={other.t.username}'s {target}"
                if (name, fl.name) not in ANY_USER:
                    f.check(resp.status_code in (400, 401, 403, 404), f"{what}: {resp.status_code} {resp.text[:120]}")
                    f.check(await engine.get(f"/{name}({mine})?$select={fl.name}", ALL) == before, f"{what}: changed")
        for n, c in counts.items():
            if n in OUTLIVE:
                continue
            now = await d(engine, f"/{n}/$count")
            f.check(now == c, f"{me.t.username}'s POSTs left {now - c} more {n}")
    f.done(at_least=1)


@pytest.mark.parametrize("resource", sorted(n for n in MODEL.resources if denied(n)))
async def test_resources_no_user_may_touch(client, matrix: Matrix, resource: str):
    h = matrix.alice.t.headers
    for method, url in (("GET", f"/v7/{resource}"), ("GET", f"/v7/{resource}(1)"), ("GET", f"/v7/{resource}/$count"),
                        ("PATCH", f"/v7/{resource}(1)"), ("DELETE", f"/v7/{resource}?$filter=id gt 0"),
                        ("POST", f"/v7/{resource}")):
        resp = await client.request(method, url, json={"name": "x"} if method in ("PATCH", "POST") else None,
                                    headers=h)
        assert resp.status_code == 401, (method, url, resp.status_code)


async def test_shared_resources_are_read_alike_and_written_by_nobody(client, engine, matrix: Matrix):
    f = Findings()
    for name in sorted(SHARED):
        r = MODEL.resources[name]
        everything = await engine.get(f"/{name}?$select=id", ALL)
        texts = [(await client.get(f"/v7/{name}?$select=id", headers=s.t.headers)).text
                 for s in (matrix.alice, matrix.bob)]
        f.check(texts[0] == texts[1], f"{name} reads differ between the tenants")
        first = orjson.loads(everything)["d"]
        if not first:
            continue
        i = first[0]["id"]
        body = patch_body(r, matrix.alice) or {"name": "x"}
        before = await engine.get(f"/{name}({i})", ALL)
        for method, url in (("PATCH", f"/v7/{name}({i})"), ("DELETE", f"/v7/{name}({i})"), ("POST", f"/v7/{name}")):
            resp = await client.request(method, url, json=body if method != "DELETE" else None,
                                        headers=matrix.alice.t.headers)
            f.check(resp.status_code == 401, f"{method} {url}: {resp.status_code}")
        f.check(await engine.get(f"/{name}({i})", ALL) == before, f"{name} changed")
    f.done(at_least=1)
