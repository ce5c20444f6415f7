"""Writing the catalogue: `seed_catalogue(engine)` inserts the rows of `device_types`,
`application_types` and `host_os` that the database lacks, in one transaction.

It writes through the engine with every right, like any client, so the model's checks
apply; the bodies are complete rows (slugs, uuids, actors, revisions), so the result is the
same with the server's write rules or without them. Rows are matched on their unique keys
(slug, alias, handle) and never changed: running it again inserts nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from fleetyard.catalogue import host_os
from fleetyard.catalogue.application_types import APPLICATION_TYPES
from fleetyard.catalogue.device_types import DEVICE_TYPES, FAMILIES, MANUFACTURERS
from fleetyard.db.base import Transaction
from fleetyard.model.balena.device_types import CPU_ARCHITECTURES
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()

# What the catalogue writes: a model without one of these cannot hold it.
RESOURCES = ("cpu_architecture", "device_manufacturer", "device_family", "device_type",
             "device_type_alias", "application_type", "organization", "actor", "application",
             "release")

# A fleet counts as having its OS release when it owns one that `getAllSupported()` sees.
_GOOD_RELEASE = "status eq 'success' and is_final eq true and is_invalidated eq false"


async def seed_catalogue(engine: Engine, *, tx: Transaction | None = None) -> dict[str, int]:
    """Insert the missing catalogue rows, in `tx` or in a transaction of its own; how many
    rows of each resource it inserted (empty when the catalogue was complete)."""
    if tx is not None:
        return await _Seeder(engine, tx).run()
    async with engine.db.transaction() as own:
        return await _Seeder(engine, own).run()


class _Seeder:
    def __init__(self, engine: Engine, tx: Transaction):
        self.engine = engine
        self.tx = tx
        self.added: Counter[str] = Counter()

    async def get(self, url: str) -> list[dict[str, Any]]:
        return orjson.loads(await self.engine.get(url, ALL, tx=self.tx))["d"]

    async def ids(self, resource: str, key: str) -> dict[str, int]:
        return {row[key]: row["id"] for row in await self.get(f"/{resource}?$select=id,{key}")}

    async def add(self, resource: str, body: dict[str, Any]) -> int:
        created = await self.engine.post(f"/{resource}?returnResource=false", body, ALL, tx=self.tx)
        self.added[resource] += 1
        return int(created["id"])

    async def ensure(self, resource: str, key: str, bodies: list[dict[str, Any]]) -> dict[str, int]:
        """Each body whose `key` value is not there yet, inserted in order; key → id."""
        ids = await self.ids(resource, key)
        for body in bodies:
            if body[key] not in ids:
                ids[body[key]] = await self.add(resource, body)
        return ids

    async def run(self) -> dict[str, int]:
        arch = await self.ensure("cpu_architecture", "slug", [{"slug": s} for s in CPU_ARCHITECTURES])
        maker = await self.ensure("device_manufacturer", "slug",
                                  [{"slug": m.slug, "name": m.name} for m in MANUFACTURERS])
        family = await self.ensure("device_family", "slug", [
            {"slug": f.slug, "name": f.name, "is_manufactured_by__device_manufacturer": maker[f.manufacturer]}
            for f in FAMILIES])
        device_type = await self.ensure("device_type", "slug", [
            {"slug": dt.slug, "name": dt.name, "is_of__cpu_architecture": arch[dt.arch],
             "contract": dt.contract,
             "belongs_to__device_family": family[dt.family] if dt.family else None}
            for dt in DEVICE_TYPES])
        await self.ensure("device_type_alias", "is_referenced_by__alias", [
            {"device_type": device_type[dt.slug], "is_referenced_by__alias": alias}
            for dt in DEVICE_TYPES for alias in dt.aliases])
        app_type = await self.ensure("application_type", "slug", [t.row() for t in APPLICATION_TYPES])
        org = await self.ensure("organization", "handle", [host_os.ORGANIZATION])
        await self.host_fleets(org[host_os.ORGANIZATION["handle"]], device_type,
                               app_type[host_os.APPLICATION_TYPE])
        return dict(self.added)

    async def host_fleets(self, org: int, device_type: dict[str, int], app_type: int) -> None:
        """Per device type its public host-OS fleet, tracking its one OS release."""
        fleets = {row["slug"]: row for row in await self.get(
            f"/application?$select=id,slug,should_be_running__release&$filter=organization eq {org}"
            f"&$expand=owns__release($select=id;$filter={_GOOD_RELEASE})")}
        for dt in DEVICE_TYPES:
            existing = fleets.get(host_os.fleet_slug(dt.slug))
            if existing is None:
                # An engine with the fleet rules gives a new fleet its actor itself.
                actor = None if "application" in self.engine.hooks else await self.add("actor", {})
                fleet_id = await self.add("application", host_os.fleet(
                    dt.slug, device_type_id=device_type[dt.slug], organization=org, actor=actor,
                    application_type=app_type))
                existing = {"id": fleet_id, "owns__release": [], "should_be_running__release": None}
            if existing["owns__release"]:
                continue
            release_id = await self.add("release", host_os.release(dt.slug, fleet_id=existing["id"]))
            if existing["should_be_running__release"] is None:
                await self.engine.patch(f"/application({existing['id']})",
                                        {"should_be_running__release": release_id}, ALL, tx=self.tx)
