"""The domain stage: balena's business rules as write hooks, one `Hooks` per resource
(`odata/hooks.py`), run in the write's own transaction. `HOOKS` is what the server's
Engine gets (`api/app.py`); the engine itself knows no rule.

fleets (slug, uuid, actor, tracking, cascade) · releases (finalisation, revisions, track
latest) · devices (uuid, names, moves, events) · pinning (targets and pins) · installs
(the service installs of what each device should run) · cascade (services, images) ·
variables (names and values of variables and tags) · names (generated device names).
Facts: spec/model.md §2-§4, §6.
"""

from __future__ import annotations

from fleetyard.domain.cascade import CASCADES
from fleetyard.domain.devices import DeviceRules
from fleetyard.domain.fleets import ApplicationRules, OrganizationSlugs
from fleetyard.domain.releases import ReleaseRules
from fleetyard.domain.variables import VARIABLES
from fleetyard.odata.hooks import Hooks

HOOKS: dict[str, Hooks] = {
    "application": ApplicationRules(),
    "organization": OrganizationSlugs(),
    "release": ReleaseRules(),
    "device": DeviceRules(),
    **CASCADES,
    **VARIABLES,
}

__all__ = ["HOOKS"]
