"""Device types and what describes them: device_type, cpu_architecture, device_family,
device_manufacturer, device_type_alias.

Part of `model/balena` (spec/model.md §1.4-1.8). The rows are a catalogue the server
seeds (decisions.md, "Device types"); users only read them.
"""

from __future__ import annotations

from fleetyard.model.balena.common import children, common, fk, short, text, to_many, to_one
from fleetyard.model.schema import Field, Resource

# §1.5: the reference's check on the architecture slug
CPU_ARCHITECTURES = ("rpi", "armv7hf", "aarch64", "i386-nlp", "i386", "amd64")

device_type = Resource(
    "device_type",
    common() + (
        short("slug", required=True, unique=True),
        short("name", required=True),
        fk("is_of__cpu_architecture", "cpu_architecture", required=True),
        text("logo"),
        Field("contract", "JSON"),
        fk("belongs_to__device_family", "device_family"),
    ),
    to_one("cpu_architecture", "is_of__cpu_architecture", "supports__cpu_architecture")
    + to_one("device_family", "belongs_to__device_family")
    + to_many("application", "is_for__device_type", "is_default_for__application")
    + to_many("device", "is_of__device_type", "describes__device", "device", "has__device")
    + children("device_type_alias", "device_type__is_referenced_by__alias", "device_type",
               "is_referenced_by__alias")
    + to_many("device_history", "is_of__device_type", "device_history"),
)

cpu_architecture = Resource(
    "cpu_architecture",
    common() + (short("slug", required=True, unique=True, choices=CPU_ARCHITECTURES),),
    to_many("device_type", "is_of__cpu_architecture",
            "is_supported_by__device_type", "device_type", "has__device_type"),
)

device_family = Resource(
    "device_family",
    common() + (
        short("slug", required=True, unique=True),
        short("name", required=True),
        fk("is_manufactured_by__device_manufacturer", "device_manufacturer"),
    ),
    to_one("device_manufacturer", "is_manufactured_by__device_manufacturer")
    + to_many("device_type", "belongs_to__device_family", "device_type", "has__device_type"),
)

# §1.7: no reverse navigation in v7
device_manufacturer = Resource(
    "device_manufacturer",
    common() + (
        short("slug", required=True, unique=True),
        short("name", required=True),
    ),
)

# §1.8: an alias names one device type (unique on its own, and with its type).
device_type_alias = Resource(
    "device_type_alias",
    common() + (
        fk("device_type", "device_type", required=True),
        short("is_referenced_by__alias", required=True, unique=True),
    ),
    to_one("device_type", "device_type"),
    synonyms=("device_type__is_referenced_by__alias",),
    unique_together=(("device_type", "is_referenced_by__alias"),),
)

RESOURCES = (device_type, cpu_architecture, device_family, device_manufacturer, device_type_alias)
