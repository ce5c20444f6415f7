"""Simulated devices (`fleetyard simulate`) against the app: they register, poll with
their ETags (mostly 304s), report running their target, log, and stay online."""

from __future__ import annotations

from fleetyard.device import simulate as sim


async def test_simulated_devices_run_their_target(client, world):
    fleet = {"id": world.fleet, "uuid": world.fleet_uuid}
    stats = await sim.simulate(client, devices=4, fleet=fleet, key=world.provisioning_key,
                               device_type="raspberrypi4-64", duration=0.8, interval=0.1)
    assert stats.errors == [] and stats.registered == 4
    assert stats.changed == 4 and stats.unchanged >= 4 * 3  # one full state each, then 304s
    assert stats.reports >= 4 and stats.logs >= 4
    devices = await world.d(f"/device?$filter=belongs_to__application eq {world.fleet}&$select=id,api_heartbeat_state,"
                            "is_running__release,status,overall_status")
    assert len(devices) == 4
    for d in devices:
        assert d["api_heartbeat_state"] == "online" and d["is_running__release"] == {"__id": world.release}
        assert d["status"] == "Idle" and d["overall_status"] == "reduced-functionality"  # no VPN in the simulation
    installs = await world.d(f"/image_install?$filter=installs__image eq {world.image}&$select=status")
    assert [i["status"] for i in installs] == ["Running"] * 4
