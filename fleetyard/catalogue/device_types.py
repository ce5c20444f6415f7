"""The device types a fresh database holds, with their families and manufacturers.

Catalogue data, written by `seed.py` (spec/clients.md §7; decisions.md "Device types"):
slugs, names, architectures, aliases and families follow balena's public contracts
repository (`contracts/hw.device-type/<slug>/contract.json`, `hw.device-family`,
`hw.device-manufacturer`). Each contract carries what the SDKs read: `data.arch`,
`data.media.defaultBoot` or `data.flashProtocol` (the install method) and the `partials`
the JS SDK's install instructions are built from; the instructions the SDK tests pin
(raspberry-pi2, intel-nuc, radxa-zero) come out word for word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Manufacturer:
    slug: str
    name: str


@dataclass(frozen=True)
class Family:
    slug: str
    name: str
    manufacturer: str  # a Manufacturer's slug


@dataclass(frozen=True)
class DeviceType:
    """One device type; everything but the contract is read from the contract."""

    contract: dict[str, Any]

    @property
    def slug(self) -> str:
        return self.contract["slug"]

    @property
    def name(self) -> str:
        return self.contract["name"]

    @property
    def arch(self) -> str:
        return self.contract["data"]["arch"]

    @property
    def family(self) -> str | None:
        return self.contract["data"].get("family")

    @property
    def aliases(self) -> tuple[str, ...]:
        """The names the type is looked up by: its own slug first (clients.md §7: every
        lookup goes through `device_type_alias`), then the contract's aliases."""
        return (self.slug, *self.contract.get("aliases", ()))


MANUFACTURERS = (
    Manufacturer("raspberrypi", "Raspberry Pi"),
    Manufacturer("balena", "Balena"),
    Manufacturer("generic", "Generic"),
    Manufacturer("intel", "Intel"),
    Manufacturer("nvidia", "NVIDIA"),
    Manufacturer("beagleboard", "BeagleBoard"),
    Manufacturer("radxa", "Radxa"),
)

FAMILIES = (
    Family("raspberrypi-broadcom", "Raspberry Pi", "raspberrypi"),
    Family("balena-broadcom", "Balena Broadcom", "balena"),
    Family("generic-x86", "Generic AMD64", "generic"),
    Family("generic-aarch64", "Generic AARCH64", "generic"),
    Family("intel-x86", "Intel NUC", "intel"),
    Family("nvidia-jetson", "NVIDIA Jetson", "nvidia"),
    Family("beagleboard-ti", "Beagle TI", "beagleboard"),
    Family("radxa-amlogic", "Radxa Amlogic", "radxa"),
)


def _contract(slug: str, name: str, arch: str, family: str, *, aliases: tuple[str, ...] = (),
              led: bool = True, radio: bool = True, internal: bool = False, boot: str = "sdcard",
              alt_boot: tuple[str, ...] = (), flash_protocol: str | None = None,
              partials: dict[str, list[str]]) -> dict[str, Any]:
    """A `hw.device-type` contract in the repository's shape (without its logo asset)."""
    media: dict[str, Any] = {"defaultBoot": boot}
    if alt_boot:
        media["altBoot"] = list(alt_boot)
    data: dict[str, Any] = {
        "arch": arch,
        "family": family,
        "hdmi": True,
        "led": led,
        "connectivity": {"bluetooth": radio, "wifi": radio},
        "storage": {"internal": internal},
        "media": media,
        "is_private": False,
    }
    if flash_protocol is not None:
        data["flashProtocol"] = flash_protocol
    return {"slug": slug, "version": "1", "type": "hw.device-type", "aliases": list(aliases),
            "name": name, "data": data, "partials": partials}


# Partials shared by many types: boot from an SD card, or flash the internal storage from a
# USB key (the "externalFlash" instructions).
_SD_BOOT = {"bootDevice": ["Connect power to the {{name}}"]}
_SD_ALT = ("usb_mass_storage", "network")


def _usb_flasher(*boot_external: str, indicator: str = "all LEDs are off",
                 boot: str = "Power up the {{name}}") -> dict[str, list[str]]:
    return {"bootDeviceExternal": list(boot_external), "flashIndicator": [indicator],
            "bootDevice": [boot]}


_PC_USB_BOOT = (
    "Ensure there are no other USB keys are inserted.",
    "Power on the {{name}} with a keyboard connected.",
    "Press the F10 key while BIOS is loading to enter the boot menu.",
    "Select the USB key from the boot menu.",
)

_RADXA_ZERO_STEPS = [
    ("Use the <a href=https://wiki.radxa.com/Zero/dev/maskrom#Enable_maskrom>maskrom mode</a> "
     "instructions provided by the vendor and make sure the board's USB2 port is used for "
     "provisioning."),
    ("Install on your PC the <a href=https://wiki.radxa.com/Zero/dev/maskrom#Install_required_tools>"
     "tools</a> required for flashing."),
    ("Clear eMMC and set it in UMS mode. Make sure to use "
     "<a href=https://dl.radxa.com/zero/images/loader/radxa-zero-erase-emmc.bin>this loader</a> when "
     "following the <a href=https://wiki.radxa.com/Zero/dev/maskrom#Side_loading_binaries>"
     "sideloading instructions</a>."),
    ("Write the OS to the internal eMMC storage device. We recommend using "
     "<a href=http://www.etcher.io/>Etcher</a>."),
    "Once the OS has been written to the eMMC you need to repower your board.",
]

# In this order: ids follow it, and the JS SDK's tests expect raspberry-pi2 to be id 1.
DEVICE_TYPES = tuple(DeviceType(c) for c in (
    _contract("raspberry-pi2", "Raspberry Pi 2", "armv7hf", "raspberrypi-broadcom",
              aliases=("raspberrypi2",), radio=False, partials=_SD_BOOT),
    _contract("raspberry-pi", "Raspberry Pi (v1 / Zero / Zero W)", "rpi", "raspberrypi-broadcom",
              aliases=("raspberrypi",), alt_boot=_SD_ALT, partials=_SD_BOOT),
    _contract("raspberrypi3", "Raspberry Pi 3", "armv7hf", "raspberrypi-broadcom",
              alt_boot=_SD_ALT, partials=_SD_BOOT),
    _contract("raspberrypi3-64", "Raspberry Pi 3 (using 64bit OS)", "aarch64", "raspberrypi-broadcom",
              alt_boot=_SD_ALT, partials=_SD_BOOT),
    _contract("raspberrypi4-64", "Raspberry Pi 4 (using 64bit OS)", "aarch64", "raspberrypi-broadcom",
              partials=_SD_BOOT),
    _contract("raspberrypi5", "Raspberry Pi 5", "aarch64", "raspberrypi-broadcom",
              alt_boot=_SD_ALT, partials=_SD_BOOT),
    # The Fin's eMMC is written over USB from a host (the "internalFlash" instructions).
    _contract("fincm3", "Balena Fin (CM3)", "armv7hf", "balena-broadcom", internal=True,
              boot="internal", flash_protocol="internalFlash", partials={
                  "connectDevice": ["Connect the {{name}} to the host machine over its micro-USB port."],
                  "disconnectDevice": ["Disconnect the {{name}} from the host machine."],
                  "bootDevice": ["Connect power to the {{name}}"]}),
    _contract("generic-amd64", "Generic AMD64 (x86-64)", "amd64", "generic-x86", led=False,
              internal=True, boot="internal", alt_boot=("usb_mass_storage",),
              partials=_usb_flasher(*_PC_USB_BOOT)),
    _contract("generic-aarch64", "Generic AARCH64", "aarch64", "generic-aarch64", led=False,
              radio=False, alt_boot=_SD_ALT, partials=_SD_BOOT),
    _contract("intel-nuc", "Intel NUC", "amd64", "intel-x86", aliases=("nuc",), led=False,
              internal=True, boot="internal", alt_boot=("usb_mass_storage",),
              partials=_usb_flasher(*_PC_USB_BOOT)),
    _contract("jetson-nano", "Nvidia Jetson Nano SD-CARD", "aarch64", "nvidia-jetson", led=False,
              radio=False, flash_protocol="jetsonFlash", partials=_SD_BOOT),
    _contract("jetson-tx2", "Nvidia Jetson TX2", "aarch64", "nvidia-jetson", led=False,
              internal=True, boot="internal", alt_boot=("sdcard",), partials=_usb_flasher(
                  "Connect power to the {{name}} and press and hold the POWER button for 1 second.",
                  boot="Remove and re-connect power to the {{name}}")),
    _contract("jetson-orin-nano-devkit-nvme", "Nvidia Jetson Orin Nano 8GB (SD) Devkit NVME",
              "aarch64", "nvidia-jetson", led=False, internal=True, boot="internal",
              alt_boot=("usb_mass_storage",), partials=_usb_flasher(
                  "Insert an NVMe drive in the Devkit and power up the {{name}}.",
                  indicator="the power LED is off")),
    _contract("beaglebone-black", "BeagleBone Black", "armv7hf", "beagleboard-ti",
              aliases=("beaglebone",), radio=False, internal=True, boot="internal",
              alt_boot=("sdcard",), partials=_usb_flasher(
                  "Power up the {{name}} while holding down the small button near the SD slot, "
                  "until the blue LEDs start flashing.",
                  boot="Remove and re-connect power to the {{name}}")),
    _contract("radxa-zero", "Radxa Zero", "aarch64", "radxa-amlogic", internal=True,
              boot="internal", flash_protocol="usbMassStorage",
              partials={"instructions": _RADXA_ZERO_STEPS}),
))
