"""The application types a fresh database holds (spec/model.md §1.9, clients.md §7).

Catalogue data, written by `seed.py`. "Default" is the open-source server's own row, as
§1.9 gives it (a fleet created without a type gets it); the others are the cloud's types
that the SDKs and CLI name (`microservices-starter`, `microservices`, `essentials`), with
flags of ours where the public record is silent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DEFAULT = "default"


@dataclass(frozen=True)
class ApplicationType:
    slug: str
    name: str
    description: str
    supports_web_url: bool = True
    supports_multicontainer: bool = True
    supports_gateway_mode: bool = True
    requires_payment: bool = False
    is_legacy: bool = False
    needs__os_version_range: str | None = None
    maximum_device_count: int | None = None

    def row(self) -> dict[str, Any]:
        """The body that creates it."""
        return asdict(self)


APPLICATION_TYPES = (
    ApplicationType(DEFAULT, "Default", "The default fleet type: every feature, any number of devices.",
                    supports_web_url=False, needs__os_version_range=">=2.11.0"),
    ApplicationType("microservices-starter", "Starter",
                    "Multiple containers and public device URLs, for up to ten devices.",
                    maximum_device_count=10),
    ApplicationType("microservices", "Microservices",
                    "Multiple containers and public device URLs, for any number of devices.",
                    requires_payment=True),
    ApplicationType("essentials", "Essentials", "One container per device, no public device URLs.",
                    supports_web_url=False, supports_multicontainer=False, supports_gateway_mode=False),
)
