"""Device types in a fresh database, read as the SDKs and CLI read them (clients.md §4.2,
§7): by slug, by alias, by id, with their architecture, family and contract."""

from __future__ import annotations

import pytest

from fleetyard.catalogue.device_types import DEVICE_TYPES
from tests.catalogue.conftest import read

# The list, and the names clients.md §7 gives.
REQUIRED = ("raspberrypi3", "raspberrypi4-64", "raspberrypi5", "fincm3", "generic-amd64",
            "generic-aarch64", "intel-nuc", "jetson-orin-nano-devkit-nvme")
NAMES = {
    "raspberrypi4-64": "Raspberry Pi 4 (using 64bit OS)",
    "generic-amd64": "Generic AMD64 (x86-64)",
    "raspberry-pi": "Raspberry Pi (v1 / Zero / Zero W)",
    "raspberry-pi2": "Raspberry Pi 2",
    "raspberrypi5": "Raspberry Pi 5",
}
ARCH = {"raspberrypi3": "armv7hf", "raspberrypi4-64": "aarch64", "raspberrypi5": "aarch64",
        "fincm3": "armv7hf", "generic-amd64": "amd64", "generic-aarch64": "aarch64",
        "intel-nuc": "amd64", "jetson-orin-nano-devkit-nvme": "aarch64", "raspberry-pi": "rpi"}


async def test_raspberrypi5_by_slug_with_its_architecture(client) -> None:
    (dt,) = await read(client, "/v7/device_type(slug='raspberrypi5')?$expand=is_of__cpu_architecture")
    assert dt["name"] == "Raspberry Pi 5"
    assert [a["slug"] for a in dt["is_of__cpu_architecture"]] == ["aarch64"]
    assert dt["contract"]["data"]["arch"] == "aarch64"


async def test_every_listed_type_with_its_name_architecture_and_own_alias(client) -> None:
    rows = await read(client, "/v7/device_type?$select=slug,name&$expand=is_of__cpu_architecture($select=slug),"
                            "device_type_alias($select=is_referenced_by__alias)")
    by_slug = {r["slug"]: r for r in rows}
    assert set(REQUIRED) <= set(by_slug)
    assert len(rows) == len(DEVICE_TYPES)
    for slug, name in NAMES.items():
        assert by_slug[slug]["name"] == name
    for slug, arch in ARCH.items():
        assert by_slug[slug]["is_of__cpu_architecture"][0]["slug"] == arch
    for row in rows:  # clients.md §7: lookups go through the alias table, own slug included
        assert row["slug"] in {a["is_referenced_by__alias"] for a in row["device_type_alias"]}


@pytest.mark.parametrize(("alias", "slug"), [
    ("raspberrypi4-64", "raspberrypi4-64"), ("raspberrypi2", "raspberry-pi2"),
    ("raspberrypi", "raspberry-pi"), ("nuc", "intel-nuc"), ("beaglebone", "beaglebone-black"),
    ("jetson-orin-nano-devkit-nvme", "jetson-orin-nano-devkit-nvme"),
])
async def test_get_by_slug_or_alias_as_the_sdk_asks(client, alias: str, slug: str) -> None:
    url = ("/v7/device_type?$orderby=name asc&$top=1&$filter=device_type_alias/any(dta:"
           f"dta/is_referenced_by__alias eq '{alias}')&$expand=is_of__cpu_architecture($select=slug)")
    (dt,) = await read(client, url)
    assert dt["slug"] == slug


async def test_ids_and_names_the_sdk_tests_pin(client) -> None:
    (dt,) = await read(client, "/v7/device_type(1)")  # device-type.spec.ts: raspberry-pi2 is id 1
    assert (dt["slug"], dt["name"]) == ("raspberry-pi2", "Raspberry Pi 2")
    by_name = ("/v7/device_type?$orderby=name asc&$select=slug&$top=1"
               "&$filter=name eq 'Raspberry Pi 4 (using 64bit OS)' or slug eq 'Raspberry Pi 4 (using 64bit OS)'")
    assert await read(client, by_name) == [{"slug": "raspberrypi4-64"}]


async def test_family_and_manufacturer(client) -> None:
    url = ("/v7/device_type?$select=slug&$orderby=slug asc&$expand=belongs_to__device_family($select=slug;"
           "$expand=is_manufactured_by__device_manufacturer($select=slug,name))")
    rows = {r["slug"]: r["belongs_to__device_family"] for r in await read(client, url)}
    expected = {"raspberrypi5": ("raspberrypi-broadcom", "raspberrypi"),
                "fincm3": ("balena-broadcom", "balena"),
                "generic-amd64": ("generic-x86", "generic"),
                "intel-nuc": ("intel-x86", "intel"),
                "jetson-orin-nano-devkit-nvme": ("nvidia-jetson", "nvidia")}
    for slug, (family, maker) in expected.items():
        (f,) = rows[slug]
        assert (f["slug"], f["is_manufactured_by__device_manufacturer"][0]["slug"]) == (family, maker)
    assert all(rows[slug] for slug in rows)  # every type of ours has its family


# --- contracts ----------------------------------------------------------------------------

def install_method(contract: dict) -> str:
    """The JS SDK's choice of instructions (clients.md §7)."""
    data = contract["data"]
    if "flashProtocol" in data:
        return data["flashProtocol"]
    return {"image": "image", "internal": "externalFlash"}.get(data["media"]["defaultBoot"], "externalBoot")


# The partials each install method's instructions interpolate.
NEEDS = {
    "externalBoot": ("bootDevice",),
    "externalFlash": ("bootDeviceExternal", "bootDevice"),
    "jetsonFlash": ("bootDevice",),
    "internalFlash": ("connectDevice", "disconnectDevice", "bootDevice"),
    "usbMassStorage": ("instructions",),
}


def interpolate(text: str, name: str) -> str:
    return text.replace("{{name}}", name)


async def test_contracts_carry_what_the_sdks_read(client) -> None:
    rows = await read(client, "/v7/device_type?$select=slug,name,contract&$expand=is_of__cpu_architecture($select=slug)")
    for row in rows:
        c = row["contract"]
        assert isinstance(c, dict), row["slug"]
        assert (c["slug"], c["name"], c["type"]) == (row["slug"], row["name"], "hw.device-type")
        assert c["data"]["arch"] == row["is_of__cpu_architecture"][0]["slug"]
        assert isinstance(c["aliases"], list)
        method = install_method(c)
        assert set(NEEDS[method]) <= set(c["partials"]), (row["slug"], method)
        for lines in c["partials"].values():
            assert lines and all(isinstance(line, str) and line for line in lines)
        if method == "externalFlash":  # written from the alternative medium
            assert c["data"]["media"]["altBoot"]


async def test_install_methods_and_instructions_the_sdk_tests_pin(client) -> None:
    rows = {r["slug"]: r for r in await read(client, "/v7/device_type?$select=slug,name,contract")}
    methods = {slug: install_method(rows[slug]["contract"]) for slug in rows}
    assert methods["raspberry-pi2"] == "externalBoot"
    assert methods["radxa-zero"] == "usbMassStorage"
    assert methods["raspberrypi4-64"] == "externalBoot"
    assert methods["generic-amd64"] == methods["intel-nuc"] == "externalFlash"
    rpi2 = rows["raspberry-pi2"]["contract"]
    assert interpolate(rpi2["partials"]["bootDevice"][0], "Raspberry Pi 2") == "Connect power to the Raspberry Pi 2"
    assert rpi2["data"]["media"]["defaultBoot"] == "sdcard"  # "Insert the SD card …"
    nuc = rows["intel-nuc"]["contract"]
    assert " ".join(interpolate(p, "Intel NUC") for p in nuc["partials"]["bootDeviceExternal"]) == (
        "Ensure there are no other USB keys are inserted. Power on the Intel NUC with a keyboard "
        "connected. Press the F10 key while BIOS is loading to enter the boot menu. Select the USB "
        "key from the boot menu.")
    assert nuc["data"]["media"]["altBoot"][0] == "usb_mass_storage"  # "Insert the USB key …"
    assert nuc["partials"]["flashIndicator"] == ["all LEDs are off"]
    radxa = rows["radxa-zero"]["contract"]["partials"]["instructions"]
    assert len(radxa) == 5 and "internal eMMC storage device" in radxa[3]
    # clients.md §7's verified seed for raspberrypi4-64
    pi4 = rows["raspberrypi4-64"]["contract"]
    assert pi4["partials"] == {"bootDevice": ["Connect power to the {{name}}"]}
    assert pi4["data"]["connectivity"] == {"bluetooth": True, "wifi": True}


async def test_cli_device_type_list(client) -> None:
    """`balena device-type list --all --json`: slug, name, arch and sorted aliases."""
    url = ("/v7/device_type?$orderby=name asc&$select=slug,name&$expand=is_of__cpu_architecture($select=slug),"
           "device_type_alias($select=is_referenced_by__alias;$orderby=is_referenced_by__alias asc)")
    rows = await read(client, url)
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    pi = next(r for r in rows if r["slug"] == "raspberry-pi")
    assert [a["is_referenced_by__alias"] for a in pi["device_type_alias"]] == ["raspberry-pi", "raspberrypi"]
