"""The host-OS fleets and the application types of a fresh database (clients.md §7,
decisions.md "Device types", model.md §1.9)."""

from __future__ import annotations

from fleetyard.catalogue.device_types import DEVICE_TYPES
from tests.catalogue.conftest import read

SUPPORTED = ("/v7/device_type?$orderby=name asc&$filter=is_default_for__application/any(idfa:idfa/is_host eq true"
             " and idfa/is_archived eq false and idfa/owns__release/any(r:r/status eq 'success' and "
             "r/is_final eq true and r/is_invalidated eq false))")


async def test_every_device_type_is_supported(client) -> None:
    """`deviceType.getAllSupported()` and `balena device-type list` list them all."""
    rows = await read(client, SUPPORTED)
    assert sorted(r["slug"] for r in rows) == sorted(dt.slug for dt in DEVICE_TYPES)


async def test_host_fleets_are_public_with_a_final_successful_release(client) -> None:
    url = ("/v7/application?$filter=is_host eq true&$orderby=slug asc"
           "&$expand=organization($select=handle),is_for__device_type($select=slug),"
           "owns__release($select=id,status,is_final,is_invalidated,semver,raw_version,revision,commit)")
    fleets = await read(client, url)
    assert len(fleets) == len(DEVICE_TYPES)
    for fleet in fleets:
        device_type = fleet["is_for__device_type"][0]["slug"]
        assert fleet["slug"] == f"balena_os/{device_type}" and fleet["app_name"] == device_type
        assert fleet["organization"][0]["handle"] == "balena_os"
        assert fleet["is_public"] and fleet["is_host"] and not fleet["is_archived"]
        assert fleet["should_track_latest_release"]
        assert len(fleet["uuid"]) == 32 and int(fleet["uuid"], 16) >= 0
        (release,) = fleet["owns__release"]
        assert (release["status"], release["is_final"], release["is_invalidated"]) == ("success", True, False)
        assert release["semver"] == release["raw_version"] == "6.1.24" and release["revision"] == 0
        assert len(release["commit"]) == 32
        assert fleet["should_be_running__release"] == {"__id": release["id"]}


async def test_host_release_versions(client) -> None:
    (release,) = await read(client, "/v7/release?$top=1&$orderby=id asc&$select=version,semver_major,variant")
    assert release["semver_major"] == 6 and release["variant"] == ""
    assert release["version"]["raw"] == "6.1.24" and release["version"]["version"] == "6.1.24"


async def test_the_organization_balena_os(client) -> None:
    (org,) = await read(client, "/v7/organization(handle='balena_os')?$expand=application/$count")
    assert org["name"] == "balena_os" and org["application"] == len(DEVICE_TYPES)


async def test_application_types(client) -> None:
    rows = {r["slug"]: r for r in await read(client, "/v7/application_type")}
    assert {"default", "microservices-starter", "microservices", "essentials"} <= set(rows)
    default = rows["default"]  # model.md §1.9, the open-source server's own row
    assert default["id"] == 1 and default["name"] == "Default"
    assert (default["supports_web_url"], default["supports_multicontainer"], default["supports_gateway_mode"],
            default["requires_payment"], default["is_legacy"]) == (False, True, True, False, False)
    assert default["needs__os_version_range"] == ">=2.11.0" and default["maximum_device_count"] is None
    for row in rows.values():
        assert len(row["name"]) <= 20 and len(row["slug"]) <= 30 and len(row["description"] or "") <= 200
    hosts = await read(client, "/v7/application?$filter=is_host eq true and application_type/any(t:t/slug eq 'default')"
                             "&$select=id")
    assert len(hosts) == len(DEVICE_TYPES)
