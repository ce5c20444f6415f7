"""The versions stage: each served API version as a translation onto the canonical model.

v7 is the canonical model itself (balena's `MODEL`); v6 is a table of differences from it
(`v6.TABLE`, derived by `table.derive`), a body translation (`v6_writes`) and its answer
format (`answers`, and `OK` for PATCH/PUT/DELETE). The HTTP layer's `Version` takes a
`Translation` (DESIGN.md "The pipeline"; spec/versions.md, decisions.md "Versions").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleetyard.model.balena import MODEL
from fleetyard.model.schema import Model
from fleetyard.odata.engine import Engine


@dataclass(frozen=True)
class Translation:
    """How one version is served over the engine of `canonical`. `build` makes its
    service from that engine; `written` is the body of a PATCH, PUT or DELETE that
    succeeded (v6: the JSON string `"OK"`, spec/versions.md §5.6). An engine on
    another model is served as it is: the table speaks of `canonical`'s names only."""

    canonical: Model
    build: Callable[[Engine], Any]
    written: bytes = b""

    def service(self, engine: Any) -> Any:
        if getattr(engine, "model", None) is not self.canonical:
            return engine
        return self.build(engine)


def _v6(engine: Engine) -> Any:
    from fleetyard.versions.service import V6Service

    return V6Service(engine)


V6 = Translation(MODEL, _v6, written=b'"OK"')

__all__ = ["V6", "Translation"]
