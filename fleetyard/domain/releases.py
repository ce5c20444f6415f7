"""Release rules: drafts and finalisation with revisions, semver input, tracking the latest
release, and what a release's delete must refuse or clear (spec/model.md §3).

The model stores what finality and versions are made of (`revision`, `semver_*`,
`variant`) and computes `is_final` and `semver` from them (model/balena/versions.py);
here the inputs `is_final` and `semver` of a body become those stored columns.
"""

from __future__ import annotations

import re

from fleetyard.domain import pinning
from fleetyard.domain.common import (
    RuleViolation,
    as_server,
    by_server,
    chunks,
    now,
    ref,
    text,
    value,
    within,
)
from fleetyard.odata.hooks import Hooks, Write

# node-semver's strict grammar (SemVer 2.0), with the `v`/`=` prefix it tolerates.
_NUM = r"0|[1-9]\d*"
_PRE_PART = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER = re.compile(
    rf"\s*[v=\s]*({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_PRE_PART}(?:\.{_PRE_PART})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*\Z"
)
REV = re.compile(r"rev(\d+)\Z")
SEMVER_PARTS = ("semver_major", "semver_minor", "semver_patch", "semver_prerelease", "semver_build")
# Columns only the rules write: a client's value is dropped (model.md §3.1).
SERVER_ONLY = ("revision", "is_finalized_at__date")
# What makes a release trackable (§3.3); writing one of them may move fleets.
TRACKED = ("revision", "is_passing_tests", "is_invalidated", "status")
# Changing these on a final release gives it the next free revision of its new group.
REGROUPED = ("semver", "variant", "belongs_to__application")
TRACKABLE = "revision ne null and is_passing_tests eq true and is_invalidated eq false and status eq 'success'"
# A fleet builds each commit successfully once (§3.1, the reference's rule text, §6.2).
ONE_COMMIT = (
    'It is necessary that each application that owns a release1 that has a status that is equal to "success" '
    'and has a commit1, owns at most one release2 that has a status that is equal to "success" and has a '
    "commit2 that is equal to the commit1.")
_REFINALISE = "__refinalise"  # ids a PATCH un-finalised, carried from before_ to after_patch
_LOCK_CLASS = 0x66790001  # pg_advisory_xact_lock's first key: "fleetyard release revisions"


def parse_semver(v: object) -> dict:
    """`semver` input → the stored parts, or 400 `Invalid semver format`."""
    m = SEMVER.match(v) if isinstance(v, str) else None
    if m is None:
        raise RuleViolation("Invalid semver format")
    major, minor, patch, pre, build = m.groups()
    return {"semver_major": int(major), "semver_minor": int(minor), "semver_patch": int(patch),
            "semver_prerelease": pre or "", "semver_build": build or ""}


def _version_inputs(w: Write, data: dict) -> dict:
    """`semver` becomes its parts; without it, parts in the body are dropped (§3.1)."""
    data = {k: v for k, v in data.items() if k not in SEMVER_PARTS and not (k in SERVER_ONLY and not by_server(w))}
    if data.get("semver") is not None:
        data.update(parse_semver(data["semver"]))
    return data


class ReleaseRules(Hooks):
    inputs = frozenset({"is_final", "semver"})
    owned = frozenset({"is_created_by__user", "revision"})

    async def before_post(self, w: Write, data: dict) -> dict:
        data = _version_inputs(w, data)
        data["is_final"] = True if data.get("is_final") is None else value(w.resource, "is_final", data["is_final"])
        if data.get("variant") is None:
            data["variant"] = ""
        data["update_timestamp"] = now()
        user = await _caller_user(w)
        if user is not None:
            data["is_created_by__user"] = user
        return data

    async def after_post(self, w: Write, new_id: object, data: dict) -> None:
        await _one_success_per_commit(w, [new_id])
        if data["is_final"]:
            await finalise(w, [new_id])  # its revision write moves tracking fleets (§3.3)

    async def before_patch(self, w: Write, ids: list, data: dict) -> dict:
        data = _version_inputs(w, data)
        data.pop("update_timestamp", None)  # the engine sets it to now on every update
        if "is_final" in data:
            data["is_final"] = value(w.resource, "is_final", data["is_final"])
            if data["is_final"] is False and await _finals(w, ids):
                raise RuleViolation("Finalized releases cannot be converted to draft.")
        if not by_server(w) and any(k in data for k in REGROUPED):
            finals = await _finals(w, ids)
            if finals:
                data["revision"] = None  # drafts hold null already
                data[_REFINALISE] = finals
        return data

    async def after_patch(self, w: Write, ids: list, data: dict) -> None:
        todo = ids if data.get("is_final") is True else data.get(_REFINALISE, [])
        if todo:
            await finalise(w, todo)
        if any(k in data for k in TRACKED):
            await track_latest_of_releases(w, ids)
        if "status" in data or "belongs_to__application" in data:
            await pinning.check_releases(w, ids)
        if "status" in data or "belongs_to__application" in data or "commit" in data:
            await _one_success_per_commit(w, ids)

    async def before_delete(self, w: Write, ids: list) -> None:
        await pinning.refuse_deleting_pinned(w, ids)
        for part in chunks(ids):
            # Devices merely running it, and history, only inform (model.md §2.3, §3.4).
            await w.patch(f"/device?$filter={within('is_running__release', part)}", {"is_running__release": None})
            for field in ("is_running__release", "is_pinned_on__release", "should_be_managed_by__release"):
                await w.patch(f"/device_history?$filter={within(field, part)}", {field: None})
            for url in (f"/release_tag?$filter={within('release', part)}",
                        f"/release_asset?$filter={within('release', part)}",
                        f"/image_install?$filter={within('is_provided_by__release', part)}",
                        f"/release_image?$filter={within('is_part_of__release', part)}"):
                await w.delete(url)


async def _one_success_per_commit(w: Write, ids: list) -> None:
    seen: set = set()
    for part in chunks(ids):
        for r in await w.get(f"/release?$select=belongs_to__application,commit"
                             f"&$filter={within('id', part)} and status eq 'success'"):
            key = (ref(r["belongs_to__application"]), r["commit"])
            if key in seen:
                raise RuleViolation(ONE_COMMIT)
            seen.add(key)
            same = await w.get(f"/release/$count?$filter=belongs_to__application eq {key[0]}"
                               f" and status eq 'success' and commit eq {text(key[1])}")
            if same > 1:
                raise RuleViolation(ONE_COMMIT)


async def _finals(w: Write, ids: list) -> list:
    out: list = []
    for part in chunks(ids):
        out += [r["id"] for r in await w.get(f"/release?$select=id&$filter={within('id', part)} and revision ne null")]
    return out


async def _caller_user(w: Write) -> object:
    actor = w.context.get("__ACTOR_ID")
    if actor is None:
        return None
    users = await w.get(f"/user?$select=id&$filter=actor eq {int(actor)}")
    return users[0]["id"] if users else None


async def finalise(w: Write, ids: list) -> None:
    """Give each draft among `ids` the next revision of its (fleet, semver core and
    prerelease, variant) group, one at a time in the reference's order (§3.1)."""
    drafts: list = []
    for part in chunks(ids):
        drafts += await w.get(
            f"/release?$filter={within('id', part)} and revision eq null"
            "&$select=id,belongs_to__application,semver_major,semver_minor,semver_patch,"
            "semver_prerelease,semver_build,variant,is_finalized_at__date"
            "&$orderby=belongs_to__application asc,is_finalized_at__date asc,id asc")
    drafts.sort(key=lambda r: (ref(r["belongs_to__application"]), r["is_finalized_at__date"] is None,
                               r["is_finalized_at__date"] or "", r["id"]))
    server = as_server(w)
    for r in drafts:
        fleet = ref(r["belongs_to__application"])
        await _lock_fleet(w, fleet)
        group = await w.get(
            f"/release?$select=revision&$filter=belongs_to__application eq {fleet}"
            f" and semver_major eq {r['semver_major']} and semver_minor eq {r['semver_minor']}"
            f" and semver_patch eq {r['semver_patch']} and semver_prerelease eq {text(r['semver_prerelease'])}"
            f" and variant eq {text(r['variant'])} and revision ne null&$orderby=revision desc&$top=1")
        revision = group[0]["revision"] + 1 if group else 0
        for part in r["semver_build"].split(".") if r["semver_build"] else ():
            m = REV.match(part)
            if m and int(m.group(1)) != revision:
                raise RuleViolation("The provided revision does not match the autogenerated one.")
        await server.patch(f"/release({r['id']})", {
            "revision": revision, "is_finalized_at__date": r["is_finalized_at__date"] or now()})


async def _lock_fleet(w: Write, fleet: int) -> None:
    """Two finalisations in one fleet at once must not take the same revision. SQLite
    runs one write at a time; PostgreSQL needs a lock held to the end of the transaction."""
    if w.engine.dialect == "postgres":
        await w.tx.fetch_value("SELECT pg_advisory_xact_lock($1::int, $2::int)", [_LOCK_CLASS, int(fleet)])


# --- track latest release (§3.3) ---------------------------------------------------------------


async def latest_trackable(w: Write, fleet: int) -> int | None:
    rows = await w.get(f"/release?$select=id&$filter=belongs_to__application eq {int(fleet)} and {TRACKABLE}"
                       "&$orderby=start_timestamp desc,id desc&$top=1")
    return rows[0]["id"] if rows else None


async def track_latest(w: Write, fleet_ids: list) -> None:
    """Fleets among `fleet_ids` that track the latest release move to it, if they have one."""
    for part in chunks(fleet_ids):
        fleets = await w.get(f"/application?$select=id,should_be_running__release"
                             f"&$filter={within('id', part)} and should_track_latest_release eq true")
        for fleet in fleets:
            latest = await latest_trackable(w, fleet["id"])
            if latest is not None and latest != ref(fleet["should_be_running__release"]):
                await w.patch(f"/application?$filter=id eq {fleet['id']} and should_track_latest_release eq true",
                              {"should_be_running__release": latest})


async def track_latest_of_releases(w: Write, release_ids: list) -> None:
    fleets: set = set()
    for part in chunks(release_ids):
        rows = await w.get(f"/release?$select=belongs_to__application&$filter={within('id', part)}")
        fleets.update(ref(r["belongs_to__application"]) for r in rows)
    await track_latest(w, sorted(fleets))
