"""Golden queries: the SQL each dialect gets for requests of the kind the SDKs send, and
the proof that both databases answer them with the same JSON.

Set FLEETYARD_UPDATE_GOLDEN=1 to rewrite golden/queries.json after a deliberate change to
the compiler, then read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from fleetyard.db import connect
from fleetyard.odata.parser import parse
from fleetyard.odata.compile import compile_read
from fleetyard.odata.resolve import Resolver
from fleetyard.sql.render import renderer
from tests.conftest import drop_postgres_schema, open_postgres_schema, postgres_url
from tests.odata.model import MODEL
from tests.odata.seed import ALL, seeded

GOLDEN = Path(__file__).parent / "golden" / "queries.json"

URLS = [
    "/pilot",
    "/pilot(1)",
    "/pilot(1)?$select=id,name,licence",
    "/pilot?$select=id,name&$top=2&$skip=1",
    "/pilot?$filter=name eq 'Peter' and is_experienced eq true",
    "/pilot?$filter=licence/name eq 'Alpha'&$select=id",
    "/pilot?$filter=can_fly__plane/any(c:c/plane/name eq '747')&$select=name",
    "/pilot?$filter=trained__pilot/all(t:t/age gt 20)&$select=name",
    "/pilot?$filter=identification_method/$count ge 1&$select=name&$orderby=name asc",
    "/pilot?$filter=id in (1, 2, 3)&$orderby=age desc&$select=name,age",
    "/pilot?$filter=contains(name,'a') or startswith(name,'P')&$select=name",
    "/pilot?$filter=hire_date gt datetime'2020-01-01T00:00:00.000Z'&$select=name,hire_date",
    "/pilot?$filter=hire_date add duration'P1D' lt now()&$select=id",
    "/pilot?$expand=licence($select=name),can_fly__plane($expand=plane($select=name);$orderby=id desc)&$select=id",
    "/pilot?$expand=can_fly__plane/$count($filter=can_fly__plane ne 1)&$select=name",
    "/pilot?$orderby=licence/name asc,name desc&$select=name",
    "/pilot/$count?$filter=age gt 30",
    "/pilot(1)/can_fly__plane?$select=id",
    "/team('purple')?$expand=includes__pilot($select=name;$filter=age ge 30)",
    "/identification_method(pilot=1,identification_type='passport')",
    "/gauge(1)",
    "/pilot_plane?$filter=plane_name eq 'A380'",
    "/pilot?$select=id,is_senior,first__plane&$expand=first__plane($select=name)",
    "/plane?$filter=can_be_flown_by__pilot/any(c:c/pilot/any(p:p/trained__pilot/any(t:t/name eq 'Pat')))&$select=name",
]


def compile_both(url: str) -> dict[str, str]:
    req = parse(url)
    plan = Resolver(MODEL, ALL, req.binds).resolve(req, "GET")
    statement = compile_read(plan)
    return {d: renderer(d).render(statement)[0] for d in ("sqlite", "postgres")}


def test_golden_sql():
    current = [{"url": u, **compile_both(u)} for u in URLS]
    if os.environ.get("FLEETYARD_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(current, indent=1) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert [g["url"] for g in golden] == URLS, "golden file out of date: rerun with FLEETYARD_UPDATE_GOLDEN=1"
    for want, got in zip(golden, current):
        assert got == want, want["url"]


def _without_timestamps(value):
    if isinstance(value, dict):
        return {k: _without_timestamps(v) for k, v in value.items() if k not in ("created_at", "modified_at")}
    if isinstance(value, list):
        return [_without_timestamps(v) for v in value]
    return value


@pytest.fixture
async def both_databases(tmp_path):
    url = postgres_url()
    lite = await connect(f"sqlite:///{tmp_path / 'golden.db'}")
    pg, schema = await open_postgres_schema(url)
    try:
        yield await seeded(lite), await seeded(pg)
    finally:
        await lite.close()
        await pg.close()
        await drop_postgres_schema(url, schema)


async def test_both_databases_answer_identical_json(both_databases):
    lite, pg = both_databases
    empty = []
    for url in URLS:
        a = orjson.loads(await lite.get(url, ALL))
        b = orjson.loads(await pg.get(url, ALL))
        assert _without_timestamps(a) == _without_timestamps(b), url
        if a["d"] in ([], 0):
            empty.append(url)
    # Every golden query finds rows in the seed, so equal answers are not equal emptiness.
    assert empty == []
