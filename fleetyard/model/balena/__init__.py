"""balena's v7 model as one `Model`: the data the OData engine serves at /v7.

The model stage (DESIGN.md "The pipeline"): resources, fields, navigations in both
directions with every synonym name, keys and computed fields, split by area —
`fleets`, `devices`, `releases`, `device_types`, `accounts`, `auth`; computed fields in
`computed` and `versions`. Facts: spec/model.md §1 (the open-source server's v7) plus the
cloud's additions in spec/decisions.md ("The v7 model"). Business rules (slugs, uuids,
actors, pinning, revisions) are the domain layer's, never here.
"""

from __future__ import annotations

from fleetyard.model.balena import accounts, auth, device_types, devices, fleets, releases
from fleetyard.model.schema import Model

MODEL = Model(
    fleets.RESOURCES
    + devices.RESOURCES
    + releases.RESOURCES
    + device_types.RESOURCES
    + accounts.RESOURCES
    + auth.RESOURCES
)

__all__ = ["MODEL"]
