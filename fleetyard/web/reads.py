"""What the dashboard's pages show, read through the engine with the caller's rights.

Part of the web stage. Every read is an OData GET on the canonical (v7) model with the
session's `Caller`, so a page holds exactly the rows the API would give that user: another
organization's fleet is simply not there (the page answers 404). The operator CLI sends
the same requests to `/v7` over HTTP (the `*_url` builders). Values reach the engine as
OData literals, percent-encoded (spec/odata.md §2).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

if TYPE_CHECKING:  # the CLI imports this module: it stays light
    from fleetyard.api.callers import Caller
    from fleetyard.odata.engine import Engine

# spec/model.md §4.6, in the order the dashboard lists them.
STATUSES = ("operational", "updating", "reduced-functionality", "configuring", "post-provisioning",
            "disconnected", "inactive")

RELEASE = "($select=id,commit,raw_version,semver,status)"
DEVICE_FIELDS = ("id,uuid,device_name,overall_status,overall_progress,api_heartbeat_state,is_online,"
                 "is_connected_to_vpn,os_version,os_variant,supervisor_version,last_connectivity_event,"
                 "changed_api_heartbeat_state_on__date,last_vpn_event,ip_address,created_at")

# The device list's sort keys: a name the page uses → the OData order.
SORTS = {
    "name": "device_name",
    "status": "overall_status",
    "last_seen": "last_connectivity_event",
    "os": "os_version",
    "created": "created_at",
}

# The key/value rows of a fleet and of a device: kind → (resource, owner field, key field).
FLEET_VALUES = {
    "env": ("application_environment_variable", "application", "name"),
    "config": ("application_config_variable", "application", "name"),
    "tags": ("application_tag", "application", "tag_key"),
}
DEVICE_VALUES = {
    "env": ("device_environment_variable", "device", "name"),
    "config": ("device_config_variable", "device", "name"),
    "tags": ("device_tag", "device", "tag_key"),
}


def literal(value: str) -> str:
    """An OData string literal for a URL: quotes doubled, percent-encoded."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


def ref(value: Any) -> Any:
    """A foreign key as read (`{"__id": n}`), an expansion (`[row]`) or nothing."""
    if isinstance(value, dict):
        return value.get("__id", value.get("id"))
    if isinstance(value, list):
        return value[0]["id"] if value else None
    return value


def one(value: Any) -> dict | None:
    """An expanded to-one navigation: its row or None."""
    return value[0] if isinstance(value, list) and value else None


def counts(statuses: list[str]) -> dict[str, int]:
    found = Counter(statuses)
    return {s: found.get(s, 0) for s in (*STATUSES, *sorted(set(found) - set(STATUSES)))}


@dataclass(frozen=True)
class DeviceQuery:
    """The fleet page's filter and sort, as the page's form sends them."""

    text: str = ""
    status: str = ""
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_params(cls, params: Any) -> DeviceQuery:
        sort = params.get("sort") or "name"
        status = params.get("status") or ""
        return cls(text=(params.get("q") or "").strip()[:100],
                   status=status if status in STATUSES else "",
                   sort=sort if sort in SORTS else "name",
                   descending=params.get("dir") == "desc")

    def odata(self, fleet: int) -> str:
        where = [f"belongs_to__application eq {fleet}"]
        if self.status:
            where.append(f"overall_status eq {literal(self.status)}")
        if self.text:
            t = literal(self.text.lower())
            where.append(f"(contains(tolower(device_name),{t}) or startswith(uuid,{t}))")
        direction = "desc" if self.descending else "asc"
        order = f"{SORTS[self.sort]} {direction}"
        if self.sort != "name":
            order += ",device_name asc"
        return f"$filter={' and '.join(where)}&$orderby={order},id asc"


# --- the OData requests (the CLI sends the same ones over HTTP) ----------------------------


def fleets_url(actor: int) -> str:
    """The fleets of the organizations `actor` (a user) belongs to, with what the fleet
    list shows: each device's status and the target release."""
    member = f"organization/any(o:o/includes__user/any(m:m/user/any(u:u/actor eq {int(actor)})))"
    return (f"/application?$select=id,app_name,slug,should_track_latest_release&$filter={member}"
            f"&$expand=organization($select=id,handle,name),should_be_running__release{RELEASE},"
            f"owns__device($select=overall_status)&$orderby=app_name asc,id asc")


def fleet_url(key: int | str) -> str:
    """One fleet by id, or by slug (a string)."""
    where = f"({int(key)})" if isinstance(key, int) else f"?$filter=slug eq {literal(key.lower())}&"
    sep = "?" if isinstance(key, int) else ""
    return (f"/application{where}{sep}$select=id,app_name,slug,should_track_latest_release,is_public,created_at"
            f"&$expand=organization($select=id,handle,name),should_be_running__release{RELEASE},"
            f"is_for__device_type($select=slug,name)")


def devices_url(fleet: int, query: DeviceQuery) -> str:
    return (f"/device?$select={DEVICE_FIELDS}&{query.odata(int(fleet))}"
            f"&$expand=is_running__release{RELEASE},should_be_running__release{RELEASE},"
            f"is_pinned_on__release($select=id)")


def releases_url(fleet: int) -> str:
    return (f"/release?$select=id,commit,raw_version,semver,status,created_at,is_final"
            f"&$filter=belongs_to__application eq {int(fleet)}&$orderby=created_at desc,id desc&$top=50"
            f"&$expand=is_running_on__device/$count")


def shape_fleet(row: dict) -> dict:
    """A fleet row as the pages and the CLI use it: counts by status, target, organization."""
    if "owns__device" in row:
        row["counts"] = counts([d["overall_status"] for d in row.pop("owns__device")])
        row["devices"] = sum(row["counts"].values())
    row["target"] = one(row.pop("should_be_running__release", None))
    row["organization"] = one(row.get("organization"))
    if "is_for__device_type" in row:
        row["device_type"] = one(row.pop("is_for__device_type"))
    return row


class Reader:
    def __init__(self, engine: Engine, caller: Caller):
        self.engine = engine
        self.caller = caller

    async def d(self, url: str) -> Any:
        return orjson.loads(await self.engine.get(url, self.caller.permissions, self.caller.context))["d"]

    # --- fleets ----------------------------------------------------------------------------

    async def fleets(self, actor: int) -> list[dict]:
        return [shape_fleet(row) for row in await self.d(fleets_url(actor))]

    async def fleet(self, fleet: int) -> dict | None:
        rows = await self.d(fleet_url(int(fleet)))
        return shape_fleet(rows[0]) if rows else None

    async def fleet_counts(self, fleet: int) -> dict[str, int]:
        rows = await self.d(f"/device?$select=overall_status&$filter=belongs_to__application eq {int(fleet)}")
        return counts([r["overall_status"] for r in rows])

    async def devices(self, fleet: int, query: DeviceQuery) -> list[dict]:
        return [shape_device(r) for r in await self.d(devices_url(fleet, query))]

    async def releases(self, fleet: int) -> list[dict]:
        return await self.d(releases_url(fleet))

    async def values(self, kind: tuple[str, str, str], owner: int) -> list[dict]:
        resource, owner_field, key = kind
        rows = await self.d(f"/{resource}?$select=id,{key},value&$filter={owner_field} eq {int(owner)}"
                            f"&$orderby={key} asc")
        return [{"id": r["id"], "key": r[key], "value": r["value"]} for r in rows]

    # --- devices ---------------------------------------------------------------------------

    async def device(self, uuid: str) -> dict | None:
        rows = await self.d(
            f"/device?$select={DEVICE_FIELDS},note&$filter=uuid eq {literal(uuid)}"
            f"&$expand=is_running__release{RELEASE},should_be_running__release{RELEASE},"
            f"is_pinned_on__release{RELEASE},belongs_to__application($select=id,app_name,slug),"
            f"is_of__device_type($select=slug,name)")
        if not rows:
            return None
        row = shape_device(rows[0])
        row["fleet"] = one(row.pop("belongs_to__application"))
        row["device_type"] = one(row.pop("is_of__device_type"))
        return row

    async def history(self, device: int) -> list[dict]:
        rows = await self.d(
            f"/device_history?$select=id,created_at,end_timestamp,os_version,os_variant,supervisor_version,"
            f"is_active&$filter=tracks__device eq {int(device)}&$orderby=created_at desc,id desc&$top=100"
            f"&$expand=is_running__release{RELEASE},is_pinned_on__release{RELEASE},"
            f"belongs_to__application($select=id,slug)")
        for r in rows:
            r["running"] = one(r.pop("is_running__release"))
            r["pinned"] = one(r.pop("is_pinned_on__release"))
            r["fleet"] = one(r.pop("belongs_to__application"))
        return rows

    async def successful_releases(self, fleet: int) -> list[dict]:
        return await self.d(f"/release?$select=id,commit,raw_version,semver,status,created_at"
                            f"&$filter=belongs_to__application eq {int(fleet)} and status eq 'success'"
                            f"&$orderby=created_at desc,id desc&$top=50")

    # --- keys ------------------------------------------------------------------------------

    async def keys(self, actor: int) -> list[dict]:
        return await self.d(f"/api_key?$select=id,name,description,created_at,expiry_date"
                            f"&$filter=is_of__actor eq {int(actor)}&$orderby=created_at desc,id desc")


def shape_device(row: dict) -> dict:
    row["running"] = one(row.pop("is_running__release"))
    row["target"] = one(row.pop("should_be_running__release"))
    pinned = row.pop("is_pinned_on__release")
    row["pinned"] = one(pinned) if isinstance(pinned, list) else None
    seen = [v for v in (row.get("last_connectivity_event"), row.get("changed_api_heartbeat_state_on__date"),
                        row.get("last_vpn_event")) if v]
    row["last_seen"] = max(seen) if seen else None
    return row
