"""device.overall_status in both versions for every branch of spec/versions.md §5.3: v6
computes its own CASE (`offline`, `idle`, `updating` without v7's heartbeat condition),
so the v7 → v6 mapping table holds, and v6 filters on its own values."""

from __future__ import annotations

from typing import Any

from tests.auth.conftest import START

DOWNLOADING = {"download_progress": 50, "status": "Downloading"}
CONNECTED = {"is_connected_to_vpn": True, "api_heartbeat_state": "online"}
VPN_ONLY = {"is_connected_to_vpn": True, "api_heartbeat_state": "offline"}

# name → (what the device reports, whether one of its images is downloading, v7, v6)
CASES: dict[str, tuple[dict[str, Any], bool, str, str]] = {
    "inactive": ({**CONNECTED, "is_active": False}, False, "inactive", "inactive"),
    "post_provisioning": ({"provisioning_state": "Post-Provisioning"}, False, "post-provisioning",
                          "post-provisioning"),
    "new": ({}, False, "configuring", "configuring"),
    "gone": ({"api_heartbeat_state": "offline", "last_connectivity_event": START}, False, "disconnected",
             "offline"),
    "fine": (CONNECTED, False, "operational", "idle"),
    "vpn_only": (VPN_ONLY, False, "reduced-functionality", "idle"),
    "heartbeat_only": ({"api_heartbeat_state": "online", "last_connectivity_event": START}, False,
                       "reduced-functionality", "idle"),
    "updating": ({**CONNECTED, **DOWNLOADING}, False, "updating", "updating"),
    # §5.3: v7's `updating` needs a heartbeat; v6 reports the download regardless
    "updating_unheard": ({**VPN_ONLY, **DOWNLOADING}, False, "reduced-functionality", "updating"),
    "provisioning": ({**CONNECTED, "provisioning_progress": 40}, False, "configuring", "configuring"),
    # the edge case of §5.3's mapping: v6's download row comes before its provisioning row
    "provisioning_unheard": ({**VPN_ONLY, **DOWNLOADING, "provisioning_progress": 40}, False,
                             "configuring", "updating"),
    "image_updating": (CONNECTED, True, "updating", "updating"),
    "image_updating_unheard": (VPN_ONLY, True, "reduced-functionality", "updating"),
}


async def test_every_branch_in_both_versions(client, world):
    ids = world.ids
    devices: dict[int, str] = {}
    for name, (state, image_downloading, _, _) in CASES.items():
        device = await world.post("/device", {"belongs_to__application": ids["fleet"], "device_name": name,
                                              "is_of__device_type": ids["device_type"]})
        if state:
            await world.patch(f"/device({device})", state)
        if image_downloading:
            await world.post("/image_install", {"device": device, "installs__image": ids["image"],
                                                "install_date": START, "download_progress": 10,
                                                "status": "Downloading", "is_provided_by__release": ids["latest"]})
        devices[device] = name
    within = ",".join(map(str, devices))
    for version, column in (("v7", 2), ("v6", 3)):
        r = await client.get(f"/{version}/device?$select=id,overall_status&$filter=id in ({within})")
        assert r.status_code == 200, r.text
        got = {devices[row["id"]]: row["overall_status"] for row in r.json()["d"]}
        assert got == {name: case[column] for name, case in CASES.items()}, version
    for status in ("offline", "idle", "updating", "configuring"):
        r = await client.get(f"/v6/device?$select=id&$filter=id in ({within}) and overall_status eq '{status}'")
        assert {devices[row["id"]] for row in r.json()["d"]} == {n for n, c in CASES.items() if c[3] == status}
