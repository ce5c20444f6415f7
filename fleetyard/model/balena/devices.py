"""Devices: device with its computed status fields, its variables and tags, what it
installs (image_install, service_install and their variables), the VPN's
service_instance, and the cloud's device_history.

Part of `model/balena` (spec/model.md §1.2, §1.22-1.29, §1.32, §4, §7). Heartbeats,
pinning rules and history writing belong to the domain layer.
"""

from __future__ import annotations

from fleetyard.model.balena import computed
from fleetyard.model.balena.common import (
    alias_one, children, common, date, fk, flag, integer, keyed_values, short, text, to_many,
    to_one,
)
from fleetyard.model.schema import Field, Resource

HEARTBEAT_STATES = ("online", "offline", "timeout", "unknown")
OS_VARIANTS = ("prod", "dev")
UPDATE_STATUSES = ("rejected", "downloading", "downloaded", "applying changes", "aborted", "done")
# §1.22: what the supervisor reports per image
IMAGE_INSTALL_STATUSES = (
    "Stopping", "Stopped", "Downloading", "Downloaded", "Installing", "Installed", "Starting",
    "Running", "Idle", "Handing over", "Awaiting handover", "Deleting", "deleted", "Dead", "paused",
    "restarting", "removing", "exited", "configuring", "Unknown",
)

device = Resource(
    "device",
    common() + (
        fk("actor", "actor", required=True),
        short("api_heartbeat_state", required=True, default="unknown", choices=HEARTBEAT_STATES),
        date("changed_api_heartbeat_state_on__date"),
        text("uuid", required=True, unique=True),
        short("local_id"),
        short("device_name", required=True),
        text("note"),
        fk("is_of__device_type", "device_type", required=True),
        fk("belongs_to__application", "application"),
        flag("is_online"),
        date("last_connectivity_event"),
        flag("is_connected_to_vpn"),
        date("last_vpn_event"),
        date("is_locked_until__date"),
        short("public_address"),
        # Short Text in v7.sbvr, but writes are checked against resin's Text (rules ≤2000
        # and ≤900): a device with many interfaces reports more than 255 characters.
        text("ip_address"),
        text("mac_address"),
        Field("is_web_accessible", "Boolean", required=True, computed=computed.is_web_accessible),
        integer("memory_usage"),
        integer("memory_total"),
        short("storage_block_device"),
        integer("storage_usage"),
        integer("storage_total"),
        integer("cpu_usage"),
        integer("cpu_temp"),
        flag("is_undervolted"),
        short("cpu_id"),
        fk("is_running__release", "release"),
        integer("download_progress"),
        short("status"),
        short("os_version"),
        short("os_variant", choices=OS_VARIANTS),
        Field("overall_status", "Short Text", required=True, computed=computed.overall_status),
        Field("overall_progress", "Integer", computed=computed.overall_progress),
        short("supervisor_version"),
        integer("provisioning_progress"),
        short("provisioning_state"),
        integer("api_port"),
        short("api_secret"),
        fk("is_managed_by__service_instance", "service_instance"),
        fk("is_pinned_on__release", "release"),
        Field("should_be_running__release", "Integer", references="release",
              computed=computed.should_be_running__release),
        fk("should_be_operated_by__release", "release"),
        fk("should_be_managed_by__release", "release"),
        short("update_status", choices=UPDATE_STATUSES),
        date("last_update_status_event"),
        # [cloud] decisions.md: false makes the status 'inactive' (§4.6 row 1)
        flag("is_active", default=True),
    ),
    to_one("actor", "actor")
    + to_one("device_type", "is_of__device_type")
    + to_one("application", "belongs_to__application")
    + to_one("release", "is_running__release")
    + to_one("release", "is_pinned_on__release")
    + to_one("release", "should_be_running__release")
    + to_one("release", "should_be_operated_by__release")
    + to_one("release", "should_be_managed_by__release")
    + to_one("service_instance", "is_managed_by__service_instance")
    + children("device_environment_variable", "device__has__env_var_name", "device", "has__env_var_name")
    + children("device_config_variable", "device__has__config_var_name", "device", "has__config_var_name")
    + children("device_tag", "device__has__tag_key", "device", "has__tag_key")
    + children("image_install", "device__installs__image", "device", "installs__image")
    + children("service_install", "device__installs__application__has__service_name", "device",
               "device__installs__service", "installs__service", "installs__application__has__service_name"),
)

device_environment_variable = keyed_values(
    "device_environment_variable", "device__has__env_var_name", "device", "name")
device_config_variable = keyed_values(
    "device_config_variable", "device__has__config_var_name", "device", "name")
device_tag = keyed_values("device_tag", "device__has__tag_key", "device", "tag_key")

image_install = Resource(
    "image_install",
    common() + (
        fk("device", "device", required=True),
        fk("installs__image", "image", required=True),
        date("install_date", required=True),
        integer("download_progress"),
        short("status", required=True, choices=IMAGE_INSTALL_STATUSES),
        fk("is_provided_by__release", "release", required=True),
    ),
    to_one("device", "device")
    + to_one("image", "installs__image")
    + alias_one("image", "installs__image", "image")  # the Python SDK expands `image`
    + to_one("release", "is_provided_by__release"),
    synonyms=("device__installs__image",),
    unique_together=(("device", "installs__image"),),
)

service_install = Resource(
    "service_install",
    common() + (
        fk("device", "device", required=True),
        fk("installs__service", "service", required=True),
    ),
    to_one("device", "device")
    + to_one("service", "installs__service")
    + alias_one("service", "installs__service", "service", "installs__application__has__service_name",
                "application__has__service_name")
    + children("device_service_environment_variable",
               "device__installs__application__has__service_name__has__name", "service_install",
               "device__installs__service__has__name", "service_install__has__name", "has__name"),
    synonyms=("device__installs__application__has__service_name",),
    unique_together=(("device", "installs__service"),),
)

# §1.29: v7 keys it by service install; the reference's resin table also copies the
# install's device and service, which fleetyard can always read through the install.
device_service_environment_variable = keyed_values(
    "device_service_environment_variable",
    "device__installs__application__has__service_name__has__name", "service_install", "name",
    parent_aliases=("device__installs__service", "device__installs__application__has__service_name"))

service_instance = Resource(
    "service_instance",
    common() + (
        short("service_type", required=True, choices=("vpn",)),
        short("ip_address", required=True),
        date("last_heartbeat", required=True),
    ),
    to_many("device", "is_managed_by__service_instance", "manages__device"),
)

# §7 [cloud]: one snapshot of a device's tracked fields per period; read-only to users
# (the domain layer writes it). Its keys stay after the device is gone (nullable).
device_history = Resource(
    "device_history",
    common() + (
        date("end_timestamp"),
        fk("is_created_by__actor", "actor"),
        fk("is_ended_by__actor", "actor"),
        fk("tracks__device", "device"),
        fk("tracks__actor", "actor", required=True),
        text("uuid"),
        fk("belongs_to__application", "application"),
        flag("is_active", default=True),
        fk("is_running__release", "release"),
        fk("is_pinned_on__release", "release"),
        fk("is_managed_by__service_instance", "service_instance"),
        short("os_version"),
        short("os_variant"),
        short("supervisor_version"),
        fk("is_of__device_type", "device_type", required=True),
        fk("should_be_managed_by__release", "release"),
    ),
    to_one("actor", "is_created_by__actor")
    + to_one("actor", "is_ended_by__actor")
    + to_one("device", "tracks__device")
    + to_one("actor", "tracks__actor")
    + to_one("application", "belongs_to__application")
    + to_one("release", "is_running__release")
    + to_one("release", "is_pinned_on__release")
    + to_one("service_instance", "is_managed_by__service_instance")
    + to_one("device_type", "is_of__device_type")
    + to_one("release", "should_be_managed_by__release"),
)

RESOURCES = (
    device, device_environment_variable, device_config_variable, device_tag, image_install,
    service_install, device_service_environment_variable, service_instance, device_history,
)
