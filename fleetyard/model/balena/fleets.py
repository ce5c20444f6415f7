"""Fleets: application, application_type, the fleet's variables and tags, and its
services with their labels and variables.

Part of `model/balena` (spec/model.md §1.1, §1.9, §1.15-1.17, §1.24-1.28; the cloud's
additions from spec/decisions.md). Hook-set values (slug, uuid, actor, the forced
`should_track_latest_release`) belong to the domain layer, not here.
"""

from __future__ import annotations

from fleetyard.model.balena.common import (
    children, common, date, fk, flag, integer, keyed_values, short, text, to_many, to_one,
)
from fleetyard.model.schema import Resource

APPLICATION_CLASSES = ("fleet", "block", "app")

application = Resource(
    "application",
    common() + (
        fk("actor", "actor", required=True),
        flag("should_track_latest_release"),
        short("is_of__class", required=True, default="fleet", choices=APPLICATION_CLASSES),
        fk("organization", "organization", required=True),
        text("app_name", required=True),
        short("slug", required=True, unique=True),
        fk("is_for__device_type", "device_type", required=True),
        fk("should_be_running__release", "release"),
        fk("application_type", "application_type", required=True),
        flag("is_host"),
        flag("is_archived"),
        text("uuid", required=True, unique=True),
        flag("is_public"),
        # [cloud] on the seed page (decisions.md, "The v7 model")
        date("is_accessible_by_support_until__date"),
        flag("is_discoverable"),
        text("is_stored_at__repository_url"),
    ),
    to_one("actor", "actor", "has__actor")
    + to_one("organization", "organization", "has__organization")
    + to_one("device_type", "is_for__device_type")
    + to_one("release", "should_be_running__release")
    + to_one("application_type", "application_type", "has__application_type")
    + to_many("device", "belongs_to__application", "owns__device")
    + to_many("release", "belongs_to__application", "owns__release")
    + children("application_environment_variable", "application__has__env_var_name", "application",
               "has__application_environment_variable", "has__env_var_name")
    + children("application_config_variable", "application__has__config_var_name", "application",
               "has__config_var_name")
    + children("application_tag", "application__has__tag_key", "application", "has__tag_key")
    + children("build_environment_variable", "application__has__build_var_name", "application",
               "has__build_var_name")
    + children("service", "application__has__service_name", "application",
               "has__service", "has__service_name")
    + children("user_application_membership", "user__is_member_of__application",
               "is_member_of__application", "includes__user")
    + to_many("user__has_direct_access_to__application", "has_direct_access_to__application",
              "is_directly_accessible_by__user"),
)

application_type = Resource(
    "application_type",
    common() + (
        short("name", required=True),
        flag("supports_web_url"),
        flag("supports_multicontainer"),
        flag("supports_gateway_mode"),
        flag("requires_payment"),
        flag("is_legacy"),
        short("needs__os_version_range"),
        short("slug", required=True, unique=True),
        text("description"),
        integer("maximum_device_count"),
    ),
    to_many("application", "application_type", "is_of__application"),
)

# §1.24-1.28 and the cloud's build variables (decisions.md: same rules as the fleet's
# environment variables, never part of the target state).
application_environment_variable = keyed_values(
    "application_environment_variable", "application__has__env_var_name", "application", "name")
application_config_variable = keyed_values(
    "application_config_variable", "application__has__config_var_name", "application", "name")
application_tag = keyed_values(
    "application_tag", "application__has__tag_key", "application", "tag_key")
build_environment_variable = keyed_values(
    "build_environment_variable", "application__has__build_var_name", "application", "name")

# §1.15-1.17: a service is "application has service name" in its own right.
service = Resource(
    "service",
    common() + (
        fk("application", "application", required=True),
        short("service_name", required=True),
    ),
    to_one("application", "application")
    + children("service_label", "application__has__service_name__has__label_name", "service",
               "service__has__label_name", "has__label_name")
    + children("service_environment_variable", "application__has__service_name__has__name", "service",
               "service__has__name", "has__name")
    + children("service_install", "device__installs__application__has__service_name", "installs__service",
               "device__installs__service")
    + to_many("image", "is_a_build_of__service", "is_built_by__image"),
    synonyms=("application__has__service_name",),
    unique_together=(("application", "service_name"),),
)

service_label = keyed_values(
    "service_label", "application__has__service_name__has__label_name", "service", "label_name",
    parent_aliases=("application__has__service_name",))
service_environment_variable = keyed_values(
    "service_environment_variable", "application__has__service_name__has__name", "service", "name",
    parent_aliases=("application__has__service_name",))

RESOURCES = (
    application, application_type, application_environment_variable, application_config_variable,
    application_tag, build_environment_variable, service, service_label, service_environment_variable,
)
