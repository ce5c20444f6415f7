"""A release's computed version fields on rows written through the engine, on both
databases: is_final, semver, raw_version and the `version` JSON (spec/model.md §3.2),
including the draft's timestamp and the examples of the reference's tests."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest

from fleetyard.db import Database
from tests.model.balena_seed import ALL, base, engine_for, release


@pytest.fixture
async def engine(database: Database):
    e = await engine_for(database)
    await base(e)  # releases 1 (1.0.0, revision 0) and 2 (1.0.0, revision 1)
    return e


async def d(engine, url):
    return orjson.loads(await engine.get(url, ALL))["d"]


def epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


# (stored version columns, semver, raw_version, prerelease, build); "<ts>" is the draft's
# created_at in milliseconds (a number in `prerelease`).
FINAL_CASES = [
    ({"semver_major": 1, "semver_minor": 2, "semver_patch": 3, "revision": 0}, "1.2.3", "1.2.3", [], []),
    ({"semver_major": 1, "semver_minor": 2, "semver_patch": 3, "revision": 1}, "1.2.3", "1.2.3+rev1", [], ["rev1"]),
    ({"semver_major": 1, "variant": "dev", "revision": 0}, "1.0.0", "1.0.0+dev", [], ["dev"]),
    ({"semver_major": 1, "variant": "dev", "revision": 1}, "1.0.0", "1.0.0+rev1.dev", [], ["rev1", "dev"]),
    ({"semver_major": 1, "semver_minor": 2, "semver_patch": 3, "semver_prerelease": "beta3", "revision": 1},
     "1.2.3-beta3", "1.2.3-beta3+rev1", ["beta3"], ["rev1"]),
    ({"semver_major": 2, "semver_prerelease": "rc.1", "semver_build": "build.7", "revision": 3},
     "2.0.0-rc.1+build.7", "2.0.0-rc.1+build.7.rev3", ["rc", "1"], ["build", "7", "rev3"]),
    # "revN" is not repeated when the build metadata already holds it as a part…
    ({"semver_major": 1, "semver_build": "rev2", "revision": 2}, "1.0.0+rev2", "1.0.0+rev2", [], ["rev2"]),
    ({"semver_major": 1, "semver_build": "x.rev2.y", "revision": 2}, "1.0.0+x.rev2.y", "1.0.0+x.rev2.y",
     [], ["x", "rev2", "y"]),
    # … but only as a whole part
    ({"semver_major": 1, "semver_build": "rev21", "revision": 2}, "1.0.0+rev21", "1.0.0+rev21.rev2",
     [], ["rev21", "rev2"]),
    # text that needs escaping inside the JSON
    ({"semver_major": 1, "variant": 'a"b\\c\nd', "revision": 0}, "1.0.0", '1.0.0+a"b\\c\nd', [], ['a"b\\c\nd']),
]
DRAFT_CASES = [
    ({}, "0.0.0", "0.0.0-<ts>", ["<ts>"], []),
    ({"semver_major": 1, "semver_prerelease": "beta.1", "semver_build": "build.5", "variant": "dev"},
     "1.0.0-beta.1+build.5", "1.0.0-beta.1.<ts>+build.5.dev", ["beta", "1", "<ts>"], ["build", "5", "dev"]),
    ({"semver_major": 3, "variant": "prod"}, "3.0.0", "3.0.0-<ts>+prod", ["<ts>"], ["prod"]),
]


@pytest.mark.parametrize("draft, case", [(False, c) for c in FINAL_CASES] + [(True, c) for c in DRAFT_CASES])
async def test_version_fields(engine, draft, case) -> None:
    columns, semver, raw, prerelease, build = case
    row = await release(engine, 1, commit="v", **columns)
    (got,) = await d(engine, f"/release({row['id']})?$select=created_at,is_final,semver,raw_version,version")
    ts = epoch_ms(got["created_at"])
    raw = raw.replace("<ts>", str(ts))
    assert got["is_final"] is (not draft)
    assert got["semver"] == semver
    assert got["raw_version"] == raw
    core = ".".join(str(columns.get(f"semver_{p}", 0)) for p in ("major", "minor", "patch"))
    pre = [ts if part == "<ts>" else part for part in prerelease]
    assert got["version"] == {
        "raw": raw, "major": columns.get("semver_major", 0), "minor": columns.get("semver_minor", 0),
        "patch": columns.get("semver_patch", 0), "prerelease": pre, "build": build,
        "version": core + ("-" + ".".join(map(str, pre)) if pre else ""),
    }
    # The POST answer is read back through the same statement.
    assert row["raw_version"] == raw and row["is_final"] is (not draft)


async def test_versions_filter_and_order_like_columns(engine) -> None:
    await release(engine, 1, commit="draft")  # 3, a draft
    assert [r["id"] for r in await d(engine, "/release?$filter=raw_version eq '1.0.0+rev1'")] == [2]
    assert [r["id"] for r in await d(engine, "/release?$filter=is_final eq false")] == [3]
    assert [r["id"] for r in await d(engine, "/release?$filter=startswith(raw_version,'0.0.0-')")] == [3]
    assert [r["id"] for r in await d(engine, "/release?$orderby=raw_version desc&$select=id")] == [2, 1, 3]
    fleet = await d(engine, "/application(1)?$select=id&$expand=owns__release($select=id;"
                            "$filter=is_final eq true and semver eq '1.0.0';$orderby=revision desc;$top=1)")
    assert fleet[0]["owns__release"] == [{"id": 2}]


async def test_versions_deep_in_expansions(engine) -> None:
    """Deep nesting is where SQLite's parser stack ends: the computed fields stay shallow."""
    actor = await engine.post("/actor", {}, ALL)
    await engine.post("/device", {"actor": actor["id"], "uuid": "f" * 32, "device_name": "d",
                                  "is_of__device_type": 1, "belongs_to__application": 1}, ALL)
    (row,) = await d(engine, "/organization(1)?$select=id&$expand=application($select=id;"
                             "$expand=owns__device($select=overall_status,overall_progress;"
                             "$expand=should_be_running__release($select=raw_version,version,semver,is_final;"
                             "$filter=raw_version ne '9';$expand=belongs_to__application($select=slug))))")
    (fleet,) = row["application"]
    (dev,) = fleet["owns__device"]
    (target,) = dev["should_be_running__release"]
    assert target["raw_version"] == "1.0.0" and target["version"]["raw"] == "1.0.0"
    assert target["belongs_to__application"] == [{"slug": "acme/fleet"}]
