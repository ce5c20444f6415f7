"""The catalogue a fresh database holds: device types with their architectures, families,
manufacturers, aliases and contracts, the application types, and a public host-OS fleet
per device type (spec/clients.md §7, decisions.md "Device types").

Data (`device_types`, `application_types`, `host_os`) written by `seed.seed_catalogue`
through the engine. For a model that holds it (balena's), it is migration 2 of those the
server applies (`migrations(model)`; `fleetyard serve` and `fleetyard db migrate`).
"""

from __future__ import annotations

from fleetyard.catalogue.seed import RESOURCES, seed_catalogue
from fleetyard.db.base import Database, Transaction
from fleetyard.db.migrations import Migration
from fleetyard.model.schema import Model
from fleetyard.odata.engine import Engine

VERSION = 2

__all__ = ["VERSION", "holds_catalogue", "migrations", "seed_catalogue"]


def holds_catalogue(model: Model) -> bool:
    return all(model.get(name) is not None for name in RESOURCES)


def migrations(model: Model) -> list[Migration]:
    """The catalogue as a data migration of `model`; none for a model that cannot hold it."""
    if not holds_catalogue(model):
        return []

    async def run(db: Database, tx: Transaction) -> None:
        # An engine without write rules: the catalogue's rows are complete as written.
        await seed_catalogue(Engine(model, db), tx=tx)

    return [Migration(VERSION, "the catalogue: device types, application types, host-OS fleets",
                      run=run)]
