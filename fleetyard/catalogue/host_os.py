"""The host-OS fleets: one public fleet `balena_os/<device type>` per device type, owned by
the organization `balena_os`, with one final, successful release of balenaOS.

Catalogue data, written by `seed.py` (decisions.md "Device types"; clients.md §7: the
SDKs' `getAllSupported()` and the CLI's `device-type list` show the device types that have
such a fleet). Uuids and commits derive from the slug, so every database seeds the same.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fleetyard.catalogue.application_types import DEFAULT

ORGANIZATION = {"name": "balena_os", "handle": "balena_os"}
APPLICATION_TYPE = DEFAULT

# A balenaOS release of the 6.x line; the same for every device type.
OS_VERSION = (6, 1, 24)
RELEASED_AT = "2025-01-20T12:00:00.000Z"
FINISHED_AT = "2025-01-20T12:40:00.000Z"


def _hex32(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _uuid4(text: str) -> str:
    """A version-4 uuid (what the fleet rules accept, model.md §2.1) derived from `text`."""
    return uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4).hex


def fleet_slug(device_type: str) -> str:
    return f"{ORGANIZATION['handle']}/{device_type}"


def fleet(device_type: str, *, device_type_id: int, organization: int, actor: int | None,
          application_type: int) -> dict[str, Any]:
    """The body that creates the host-OS fleet of a device type."""
    return {
        "actor": actor,
        "organization": organization,
        "app_name": device_type,
        "slug": fleet_slug(device_type),
        "uuid": _uuid4(fleet_slug(device_type)),
        "is_for__device_type": device_type_id,
        "application_type": application_type,
        "is_of__class": "fleet",
        "is_host": True,
        "is_public": True,
        "is_archived": False,
        "should_track_latest_release": True,
    }


def release(device_type: str, *, fleet_id: int) -> dict[str, Any]:
    """The body that creates the fleet's final, successful balenaOS release: revision 0,
    so its `raw_version` is the bare semver (model.md §3.2). `semver` and `is_final` are
    what a client would send; the stored parts are given too, for an engine without the
    release rules."""
    major, minor, patch = OS_VERSION
    semver = f"{major}.{minor}.{patch}"
    return {
        "belongs_to__application": fleet_id,
        "commit": _hex32(f"{fleet_slug(device_type)}@{semver}"),
        "composition": {},
        "status": "success",
        "source": "cloud",
        "start_timestamp": RELEASED_AT,
        "end_timestamp": FINISHED_AT,
        "is_finalized_at__date": FINISHED_AT,
        "semver": semver,
        "is_final": True,
        "semver_major": major,
        "semver_minor": minor,
        "semver_patch": patch,
        "variant": "",
        "revision": 0,
    }
