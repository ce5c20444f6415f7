"""Release rules on both databases: drafts and finalisation, revisions per (fleet, semver,
variant), semver input, the way back to draft refused, the caller as creator, and
fleets tracking the latest release (spec/model.md §3.1-3.3)."""

from __future__ import annotations

import pytest

from fleetyard.domain.common import RuleViolation
from fleetyard.domain.releases import ONE_COMMIT

LATER = "2024-06-01T10:00:00.000Z"
EARLIER = "2024-04-01T10:00:00.000Z"


@pytest.fixture
async def fleet(world) -> int:
    return (await world.fleet("builds"))["id"]


async def versions(world, *ids) -> list[tuple]:
    rows = await world.d(f"/release?$filter=id in ({','.join(map(str, ids))})&$orderby=id asc"
                         "&$select=is_final,revision,raw_version,is_finalized_at__date")
    return [(r["is_final"], r["revision"], r["raw_version"], r["is_finalized_at__date"] is not None) for r in rows]


async def test_post_is_final_by_default_with_the_next_revision(world, fleet):
    a = await world.release(fleet, semver="1.2.3")
    b = await world.release(fleet, semver="1.2.3")
    dev = await world.release(fleet, semver="1.2.3", variant="dev")
    other = await world.release(fleet, semver="1.2.4")
    elsewhere = await world.release((await world.fleet("another"))["id"], semver="1.2.3")
    assert await versions(world, a["id"], b["id"], dev["id"], other["id"], elsewhere["id"]) == [
        (True, 0, "1.2.3", True), (True, 1, "1.2.3+rev1", True), (True, 0, "1.2.3+dev", True),
        (True, 0, "1.2.4", True), (True, 0, "1.2.3", True)]
    assert a["is_final"] is True and a["revision"] == 0  # the POST answer shows it already


async def test_a_draft_has_no_revision_until_finalised(world, fleet):
    await world.release(fleet, semver="2.0.0")
    draft = await world.release(fleet, semver="2.0.0", is_final="false")
    assert (draft["is_final"], draft["revision"], draft["is_finalized_at__date"]) == (False, None, None)
    assert draft["raw_version"].startswith("2.0.0-")  # the draft's timestamp (§3.2)
    assert await world.patch(f"/release({draft['id']})", {"is_final": True}) == 1
    assert await versions(world, draft["id"]) == [(True, 1, "2.0.0+rev1", True)]


async def test_drafts_finalised_together_take_revisions_in_order(world, fleet):
    ids = [(await world.release(fleet, semver="3.0.0", is_final=False))["id"] for _ in range(3)]
    await world.patch(f"/release?$filter=belongs_to__application eq {fleet}", {"is_final": True})
    assert [v[1] for v in await versions(world, *ids)] == [0, 1, 2]


async def test_a_fleet_builds_each_commit_successfully_once(world, fleet):
    await world.release(fleet, commit="abc")
    with pytest.raises(RuleViolation) as e:
        await world.release(fleet, commit="abc")
    assert (e.value.status, e.value.message) == (400, ONE_COMMIT)
    failed = await world.release(fleet, commit="abc", status="failed")  # failures may repeat it
    await world.release((await world.fleet("elsewhere"))["id"], commit="abc")  # other fleets too
    with pytest.raises(RuleViolation, match="owns at most one release2"):
        await world.patch(f"/release({failed['id']})", {"status": "success"})
    other = await world.release(fleet, commit="def")
    with pytest.raises(RuleViolation, match="owns at most one release2"):
        await world.patch(f"/release({other['id']})", {"commit": "abc"})


async def test_a_final_release_never_goes_back_to_draft(world, fleet):
    final = await world.release(fleet)
    draft = await world.release(fleet, is_final=False)
    with pytest.raises(RuleViolation) as e:
        await world.patch(f"/release({final['id']})", {"is_final": False, "note": "oops"})
    assert (e.value.status, e.value.message) == (400, "Finalized releases cannot be converted to draft.")
    assert (await world.one(f"/release({final['id']})?$select=note,is_final")) == {"note": None, "is_final": True}
    assert await world.patch(f"/release({draft['id']})", {"is_final": False}) == 1  # a draft stays one


async def test_revision_and_finalisation_date_are_the_servers(world, fleet):
    r = await world.release(fleet, revision=7, is_finalized_at__date=EARLIER)
    assert r["revision"] == 0 and r["is_finalized_at__date"] != EARLIER
    await world.patch(f"/release({r['id']})", {"revision": 9})
    assert (await world.one(f"/release({r['id']})?$select=revision"))["revision"] == 0


@pytest.mark.parametrize("semver, parts", [
    ("1.2.3", (1, 2, 3, "", "")),
    ("v10.20.30-beta.1+build.5", (10, 20, 30, "beta.1", "build.5")),
    ("=0.0.1-rc-1", (0, 0, 1, "rc-1", "")),
])
async def test_semver_input_sets_the_stored_parts(world, fleet, semver, parts):
    r = await world.release(fleet, semver=semver, semver_major=99)
    assert (r["semver_major"], r["semver_minor"], r["semver_patch"], r["semver_prerelease"],
            r["semver_build"]) == parts


async def test_semver_parts_only_come_through_semver(world, fleet):
    r = await world.release(fleet, semver_major=5, semver_prerelease="x")
    assert (r["semver_major"], r["semver_prerelease"], r["semver"]) == (0, "", "0.0.0")
    await world.patch(f"/release({r['id']})", {"semver_minor": 4, "note": "n"})
    assert (await world.one(f"/release({r['id']})?$select=semver"))["semver"] == "0.0.0"


@pytest.mark.parametrize("bad", ["1.2", "01.2.3", "1.2.3-", "1.2.3+", "one", "", 123])
async def test_invalid_semver_is_refused(world, fleet, bad):
    with pytest.raises(RuleViolation, match="^Invalid semver format$"):
        await world.release(fleet, semver=bad)
    r = await world.release(fleet)
    with pytest.raises(RuleViolation, match="^Invalid semver format$"):
        await world.patch(f"/release({r['id']})", {"semver": bad})


async def test_a_revision_in_the_build_metadata_must_match(world, fleet):
    assert (await world.release(fleet, semver="1.0.0+rev0"))["revision"] == 0
    with pytest.raises(RuleViolation) as e:
        await world.release(fleet, semver="1.0.0+rev3")
    assert e.value.message == "The provided revision does not match the autogenerated one."
    assert (await world.release(fleet, semver="1.0.0+build.rev1"))["revision"] == 1


async def test_revisions_count_per_variant_whatever_its_characters(world, fleet):
    odd = "it's 100% & more"
    a = await world.release(fleet, variant=odd)
    b = await world.release(fleet, variant=odd)
    assert (a["revision"], b["revision"], b["variant"]) == (0, 1, odd)


async def test_a_new_semver_on_a_final_release_gives_it_a_new_revision(world, fleet):
    await world.release(fleet, semver="1.0.0")
    await world.release(fleet, semver="2.0.0")
    r = await world.release(fleet, semver="1.0.0")  # 1.0.0 revision 1
    await world.patch(f"/release({r['id']})", {"semver": "2.0.0"})
    assert await versions(world, r["id"]) == [(True, 1, "2.0.0+rev1", True)]
    await world.patch(f"/release({r['id']})", {"variant": "dev"})
    assert await versions(world, r["id"]) == [(True, 0, "2.0.0+dev", True)]


async def test_update_timestamp_is_the_time_of_the_write(world, fleet):
    r = await world.release(fleet, update_timestamp=EARLIER)
    assert r["update_timestamp"] > EARLIER
    await world.patch(f"/release({r['id']})", {"update_timestamp": EARLIER, "note": "x"})
    assert (await world.one(f"/release({r['id']})?$select=update_timestamp"))["update_timestamp"] > EARLIER


async def test_the_creator_is_the_calling_user(world, fleet):
    assert (await world.release(fleet))["is_created_by__user"] == {"__id": 1}


# --- track latest (§3.3) --------------------------------------------------------------------


async def test_a_tracking_fleet_moves_to_each_new_final_successful_release(world, fleet):
    assert await world.target(fleet) is None
    first = (await world.release(fleet))["id"]
    assert await world.target(fleet) == first
    second = (await world.release(fleet, start_timestamp=LATER))["id"]
    assert await world.target(fleet) == second


async def test_drafts_failures_and_untested_releases_do_not_move_it(world, fleet):
    first = (await world.release(fleet))["id"]
    await world.release(fleet, is_final=False, start_timestamp=LATER)
    await world.release(fleet, status="failed", start_timestamp=LATER)
    await world.release(fleet, is_passing_tests=False, start_timestamp=LATER)
    await world.release(fleet, is_invalidated=True, start_timestamp=LATER)
    assert await world.target(fleet) == first


async def test_finalising_a_draft_moves_it(world, fleet):
    await world.release(fleet)
    draft = (await world.release(fleet, is_final=False, start_timestamp=LATER))["id"]
    await world.patch(f"/release({draft})", {"is_final": "true"})
    assert await world.target(fleet) == draft


async def test_a_build_that_succeeds_later_moves_it(world, fleet):
    await world.release(fleet)
    running = (await world.release(fleet, status="running", start_timestamp=LATER))["id"]
    await world.patch(f"/release({running})", {"status": "success"})
    assert await world.target(fleet) == running


async def test_the_latest_start_wins_over_the_latest_finalised(world, fleet):
    newest = (await world.release(fleet, start_timestamp=LATER))["id"]
    await world.release(fleet, start_timestamp=EARLIER)
    assert await world.target(fleet) == newest


async def test_invalidating_the_target_moves_back_to_the_previous_trackable(world, fleet):
    first = (await world.release(fleet))["id"]
    second = (await world.release(fleet, start_timestamp=LATER))["id"]
    await world.patch(f"/release({second})", {"is_invalidated": True})
    assert await world.target(fleet) == first
    await world.patch(f"/release({first})", {"is_invalidated": True})
    assert await world.target(fleet) == first  # nothing trackable is left: no untracking


async def test_a_fleet_that_does_not_track_stays(world, fleet):
    first = (await world.release(fleet))["id"]
    await world.patch(f"/application({fleet})", {"should_track_latest_release": False})
    await world.release(fleet, start_timestamp=LATER)
    assert await world.target(fleet) == first
