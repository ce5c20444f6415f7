"""Service installs, kept by the server (spec/model.md §4.5): every device has a
`service_install` for each service it should run, so its per-service variables have a
row to hang off before the device ever reports in.

The services a device should run are those built by the images of its releases: the one
it should be running (its pin, else its fleet's target) and, when set, the supervisor
release that manages it and the host-OS release that operates it. Rows are only ever
added here; the ones a device no longer needs go when it leaves its fleet (devices.py)
or when the service goes (cascade.py), as in the reference.
"""

from __future__ import annotations

from fleetyard.domain.common import chunks, ref, within
from fleetyard.odata.hooks import Write

# The device fields that name a release whose services the device runs.
RELEASES = ("should_be_running__release", "should_be_managed_by__release", "should_be_operated_by__release")
# A device write that sets one of these can change what it should run.
TRIGGERS = frozenset({"belongs_to__application", "is_pinned_on__release", *RELEASES[1:]})


async def install_services(w: Write, device_ids: list) -> None:
    """Add the missing (device, service) pairs of these devices' releases."""
    for part in chunks(device_ids):
        devices = await w.get(f"/device?$select=id,{','.join(RELEASES)}&$filter={within('id', part)}")
        wanted = {d["id"]: {r for name in RELEASES if (r := ref(d[name])) is not None} for d in devices}
        releases = set().union(*wanted.values())
        if not releases:
            continue
        services = await _services_of(w, sorted(releases))
        have = {(ref(si["device"]), ref(si["installs__service"])) for si in await w.get(
            f"/service_install?$select=device,installs__service&$filter={within('device', part)}")}
        for device, runs in wanted.items():
            for service in sorted(set().union(*(services.get(r, set()) for r in runs))):
                if (device, service) not in have:
                    await w.post("/service_install", {"device": device, "installs__service": service})


async def install_fleet_services(w: Write, fleet_ids: list) -> None:
    """After a fleet's target changed: its unpinned devices now run the new release."""
    for part in chunks(fleet_ids):
        devices = await w.get(f"/device?$select=id&$filter={within('belongs_to__application', part)}"
                              " and is_pinned_on__release eq null")
        await install_services(w, [d["id"] for d in devices])


async def _services_of(w: Write, release_ids: list) -> dict[int, set[int]]:
    """release id → the services its images are builds of."""
    services: dict[int, set[int]] = {}
    for part in chunks(release_ids):
        for row in await w.get(f"/release_image?$select=is_part_of__release"
                               f"&$filter={within('is_part_of__release', part)}"
                               "&$expand=image($select=is_a_build_of__service)"):
            release = ref(row["is_part_of__release"])
            services.setdefault(release, set()).update(
                ref(i["is_a_build_of__service"]) for i in row["image"])
    return services
