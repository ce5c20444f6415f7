"""Deletes that take their dependents along: services, images, an image's place in a
release, a device's service installs (spec/model.md §2.3, the reference's cascade-delete
hooks). Devices and releases have rules of their own (`devices.py`, `releases.py`).
"""

from __future__ import annotations

from fleetyard.domain.common import chunks, within
from fleetyard.odata.hooks import Hooks, Write


class Cascade(Hooks):
    """Before a delete, the rows of each (resource, key) that point at the deleted ids
    go, in order; their own rules run in turn."""

    def __init__(self, *dependents: tuple[str, str]):
        self.dependents = dependents

    async def before_delete(self, w: Write, ids: list) -> None:
        for part in chunks(ids):
            for resource, key in self.dependents:
                await w.delete(f"/{resource}?$filter={within(key, part)}")


CASCADES: dict[str, Hooks] = {
    "service": Cascade(
        ("service_install", "installs__service"),
        ("service_environment_variable", "service"),
        ("service_label", "service"),
        ("image", "is_a_build_of__service"),
    ),
    "image": Cascade(("image_install", "installs__image"), ("release_image", "image")),
    "release_image": Cascade(("image_label", "release_image"), ("image_environment_variable", "release_image")),
    "service_install": Cascade(("device_service_environment_variable", "service_install")),
}
