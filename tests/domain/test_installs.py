"""Service installs kept by the server on both databases (spec/model.md §4.5): a device
has one for every service of the releases it should run, from its creation on, through
new fleet targets, pins, moves and its supervisor release."""

from __future__ import annotations

LATER = "2024-06-01T10:00:00.000Z"


class Builds:
    """Releases whose images are builds of named services of one fleet."""

    def __init__(self, world, fleet: int):
        self.world, self.fleet, self.images = world, fleet, 0

    async def service(self, name: str) -> int:
        found = await self.world.d(f"/service?$select=id&$filter=application eq {self.fleet} "
                                   f"and service_name eq '{name}'")
        if found:
            return found[0]["id"]
        return (await self.world.post("/service", {"application": self.fleet, "service_name": name}))["id"]

    async def release(self, *services: str, **fields) -> int:
        release = (await self.world.release(self.fleet, **fields))["id"]
        for name in services:
            self.images += 1
            image = await self.world.post("/image", {
                "is_a_build_of__service": await self.service(name), "start_timestamp": LATER, "status": "success",
                "is_stored_at__image_location": f"registry/{self.fleet}/{name}/{self.images}"})
            await self.world.post("/release_image", {"image": image["id"], "is_part_of__release": release})
        return release


async def installed(world, device: int) -> set[str]:
    rows = await world.d(f"/service_install?$filter=device eq {device}"
                         "&$expand=installs__service($select=service_name)")
    return {r["installs__service"][0]["service_name"] for r in rows}


async def test_a_new_device_has_its_fleets_services(world):
    fleet = (await world.fleet("installs"))["id"]
    builds = Builds(world, fleet)
    # images join a release after it is created, so the target is set once they are in
    first = await builds.release("main", "proxy")
    await world.patch(f"/application({fleet})", {"should_be_running__release": first})
    device = (await world.device(fleet))["id"]
    assert await installed(world, device) == {"main", "proxy"}
    # what the installs are for: a service variable can be set before the device reports in
    (install,) = await world.d(f"/service_install?$select=id&$filter=device eq {device} "
                               "and installs__service/any(s:s/service_name eq 'main')")
    await world.post("/device_service_environment_variable",
                     {"service_install": install["id"], "name": "LEVEL", "value": "debug"})


async def test_a_device_without_a_target_has_none_until_the_fleet_gets_one(world):
    fleet = (await world.fleet("bare"))["id"]
    device = (await world.device(fleet))["id"]
    assert await installed(world, device) == set()
    builds = Builds(world, fleet)
    release = await builds.release("main")
    await world.patch(f"/application({fleet})", {"should_be_running__release": release})
    assert await installed(world, device) == {"main"}


async def test_a_new_target_adds_its_services_and_keeps_the_old_ones(world):
    fleet = (await world.fleet("growing"))["id"]
    builds = Builds(world, fleet)
    first = await builds.release("main")
    await world.patch(f"/application({fleet})", {"should_be_running__release": first})
    devices = [(await world.device(fleet))["id"] for _ in range(3)]
    second = await builds.release("main", "db", start_timestamp=LATER)
    await world.patch(f"/application({fleet})", {"should_be_running__release": second})
    for device in devices:
        assert await installed(world, device) == {"main", "db"}
    # one install per pair, however often the target is set
    await world.patch(f"/application({fleet})", {"should_be_running__release": first})
    await world.patch(f"/application({fleet})", {"should_be_running__release": second})
    assert await world.d(f"/service_install/$count?$filter=device eq {devices[0]}") == 2


async def test_pinned_devices_run_their_pins_services(world):
    fleet = (await world.fleet("pins"))["id"]
    builds = Builds(world, fleet)
    old = await builds.release("main")
    await world.patch(f"/application({fleet})", {"should_be_running__release": old})
    pinned = (await world.device(fleet, is_pinned_on__release=old))["id"]
    free = (await world.device(fleet))["id"]
    new = await builds.release("main", "metrics", start_timestamp=LATER)
    # tracking off: the next release is for the pin alone
    await world.patch(f"/application({fleet})", {"should_be_running__release": new,
                                                  "should_track_latest_release": False})
    assert await installed(world, free) == {"main", "metrics"}
    assert await installed(world, pinned) == {"main"}
    other = await builds.release("main", "debug", start_timestamp=LATER)
    await world.patch(f"/device({pinned})", {"is_pinned_on__release": other})
    assert await installed(world, pinned) == {"main", "debug"}
    await world.patch(f"/device({pinned})", {"is_pinned_on__release": None})  # back to the fleet's target
    assert await installed(world, pinned) == {"main", "debug", "metrics"}


async def test_a_moved_device_runs_the_new_fleets_services_only(world):
    here = (await world.fleet("here"))["id"]
    there = (await world.fleet("there"))["id"]
    for fleet, services in ((here, ("main", "proxy")), (there, ("web",))):
        release = await Builds(world, fleet).release(*services)
        await world.patch(f"/application({fleet})", {"should_be_running__release": release})
    device = (await world.device(here))["id"]
    assert await installed(world, device) == {"main", "proxy"}
    await world.patch(f"/device({device})", {"belongs_to__application": there})
    assert await installed(world, device) == {"web"}


async def test_a_supervisor_release_adds_its_services(world):
    fleet = (await world.fleet("managed"))["id"]
    supervisors = (await world.fleet("supervisors", is_public=True))["id"]
    supervisor = await Builds(world, supervisors).release("balena-supervisor")
    device = (await world.device(fleet))["id"]
    await world.patch(f"/device({device})", {"should_be_managed_by__release": supervisor})
    assert await installed(world, device) == {"balena-supervisor"}
    born_managed = (await world.device(fleet, should_be_managed_by__release=supervisor))["id"]
    assert await installed(world, born_managed) == {"balena-supervisor"}
