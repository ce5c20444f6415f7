"""Releases: release with its computed version fields, its tags and assets, images and
the release/image link with its labels and variables.

Part of `model/balena` (spec/model.md §1.3, §1.18-1.21, §1.31, §3). Finalisation,
revisions and track-latest are domain rules; the model only computes what §3.2 derives
from the stored columns.
"""

from __future__ import annotations

from fleetyard.model.balena import versions
from fleetyard.model.balena.common import (
    alias_one, children, common, date, fk, flag, integer, keyed_values, short, text, to_many,
    to_one,
)
from fleetyard.model.schema import NOW, Field, Resource

BUILD_STATUSES = ("running", "success", "failed", "error", "cancelled", "interrupted")
PHASES = ("next", "current", "sunset", "end-of-life")
PROJECT_TYPES = (
    "Standard Dockerfile", "project type unavailable", "NodeJS", "node.js", "local deploy",
    "external service", "Dockerfile.template", "dockerfile template", "dockerfile",
    "Could not be detected", "Architecture-specific Dockerfile", "Archicture-specific Dockerfile",
)

release = Resource(
    "release",
    common() + (
        fk("belongs_to__application", "application", required=True),
        short("commit", required=True),
        Field("composition", "JSON", required=True),
        short("status", required=True, choices=BUILD_STATUSES),
        short("source", required=True, choices=("cloud", "local")),
        text("build_log"),
        flag("is_invalidated"),
        date("start_timestamp", required=True),
        date("end_timestamp"),
        # §3.1: now on every write; the domain layer also overrides a value a client sends.
        Field("update_timestamp", "Date Time", required=True, default=NOW, touch=True),
        short("release_version"),
        Field("contract", "JSON"),
        flag("is_passing_tests", default=True),
        date("is_finalized_at__date"),
        short("phase", choices=PHASES),
        Field("is_final", "Boolean", required=True, computed=versions.is_final),
        Field("semver", "Short Text", required=True, computed=versions.semver),
        # §3.1: only settable through `semver` (a domain rule); stored with DB defaults.
        integer("semver_major", required=True, default=0),
        integer("semver_minor", required=True, default=0),
        integer("semver_patch", required=True, default=0),
        short("semver_prerelease", required=True, default=""),
        short("semver_build", required=True, default=""),
        short("variant", required=True, default=""),
        integer("revision"),
        Field("raw_version", "Short Text", required=True, computed=versions.raw_version),
        Field("version", "JSON", required=True, computed=versions.version),
        text("known_issue_list"),
        text("note"),
        text("invalidation_reason"),
        # [cloud] decisions.md: the creating user
        fk("is_created_by__user", "user"),
    ),
    to_one("application", "belongs_to__application")
    + to_one("user", "is_created_by__user")
    + children("release_tag", "release__has__tag_key", "release", "has__tag_key")
    + children("release_asset", "release__has__asset_key", "release", "has__asset_key")
    + children("release_image", "image__is_part_of__release", "is_part_of__release", "contains__image")
    + to_many("application", "should_be_running__release", "should_be_running_on__application")
    + to_many("device", "should_be_running__release", "should_be_running_on__device")
    + to_many("device", "is_running__release", "is_running_on__device")
    + to_many("device", "is_pinned_on__release", "is_pinned_to__device")
    + to_many("device", "should_be_operated_by__release", "should_operate__device")
    + to_many("device", "should_be_managed_by__release", "should_manage__device")
    + to_many("image_install", "is_provided_by__release",
              "provides__image_install", "provides__device__installs__image"),
)

release_tag = keyed_values("release_tag", "release__has__tag_key", "release", "tag_key")

# §1.31: the asset itself is a WebResource ({filename, href, content_type, …}), stored as JSON.
release_asset = Resource(
    "release_asset",
    common() + (
        fk("release", "release", required=True),
        short("asset_key", required=True),
        Field("asset", "JSON"),
    ),
    to_one("release", "release"),
    synonyms=("release__has__asset_key",),
    unique_together=(("release", "asset_key"),),
)

image = Resource(
    "image",
    common() + (
        date("start_timestamp", required=True),
        date("end_timestamp"),
        text("dockerfile"),
        fk("is_a_build_of__service", "service", required=True),
        Field("image_size", "Big Integer"),
        short("is_stored_at__image_location", required=True, unique=True),
        short("project_type", choices=PROJECT_TYPES),
        text("error_message"),
        text("build_log"),
        date("push_timestamp"),
        short("status", required=True, choices=BUILD_STATUSES),
        short("content_hash"),
        Field("contract", "JSON"),
    ),
    to_one("service", "is_a_build_of__service")
    + alias_one("service", "is_a_build_of__service", "is_a_build_of__application__has__service_name")
    + children("image_install", "device__installs__image", "installs__image")
    + children("release_image", "image__is_part_of__release", "image", "is_part_of__release"),
)

release_image = Resource(
    "release_image",
    common() + (
        fk("image", "image", required=True),
        fk("is_part_of__release", "release", required=True),
    ),
    to_one("image", "image")
    + alias_one("image", "image", "contains__image")
    + to_one("release", "is_part_of__release")
    + alias_one("release", "is_part_of__release", "release")
    + children("image_label", "image__is_part_of__release__has__label_name", "release_image",
               "release_image__has__label_name", "has__label_name")
    + children("image_environment_variable", "image__is_part_of__release__has__name", "release_image",
               "release_image__has__name", "has__name"),
    synonyms=("image__is_part_of__release",),
    unique_together=(("image", "is_part_of__release"),),
)

image_label = keyed_values(
    "image_label", "image__is_part_of__release__has__label_name", "release_image", "label_name",
    parent_aliases=("image__is_part_of__release",))
image_environment_variable = keyed_values(
    "image_environment_variable", "image__is_part_of__release__has__name", "release_image", "name",
    parent_aliases=("image__is_part_of__release",))

RESOURCES = (
    release, release_tag, release_asset, image, release_image, image_label, image_environment_variable,
)
