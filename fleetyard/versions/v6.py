"""v6 as a table of differences from balena's v7 model (spec/versions.md §5, the seed's
migration guide, decisions.md "Versions").

Part of the versions stage: `TABLE` is data, `table.derive` turns it into v6's `Model`;
`v6_writes` translates bodies and `answers` formats what v6 shows differently. Every
row cites what it matches; what is not listed is the same in both versions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fleetyard.model.balena import MODEL as V7
from fleetyard.model.balena import versions as release_versions
from fleetyard.model.balena.computed import (
    _device_downloading,
    _disconnected,
    _install_downloading,
    _pre_provisioning,
    c,
    case,
    eq,
)
from fleetyard.model.schema import ComputeContext, Field, Model, Navigation, Resource
from fleetyard.sql import ir
from fleetyard.versions.table import (
    Add,
    AddNav,
    Alias,
    Differences,
    Hide,
    HideNav,
    Replace,
    derive,
    hidden,
    hidden_navigations,
    null,
)

# --- computed stand-ins -------------------------------------------------------------------


def overall_status(ctx: ComputeContext) -> ir.Expr:
    """v6's own CASE (§5.3), not a mapping of v7's values: `offline` where v7 says
    `disconnected`, `idle` where it says `operational` or `reduced-functionality`, and
    `updating` without v7's heartbeat condition. Row 1 is the cloud's `is_active`."""
    return case(
        (ir.Not(ctx.col("is_active")), c("inactive")),
        (eq(ctx.col("provisioning_state"), c("Post-Provisioning")), c("post-provisioning")),
        (_pre_provisioning(ctx), c("configuring")),
        (_disconnected(ctx), c("offline")),
        (_device_downloading(ctx), c("updating")),
        (ir.IsNull(ctx.col("provisioning_progress"), negate=True), c("configuring")),
        (_install_downloading(ctx), c("updating")),
        otherwise=c("idle"),
    )


def release_type(ctx: ComputeContext) -> ir.Expr:
    """§5.2: 'final' if `is_final`, else 'draft'."""
    return case((ctx.col("is_final"), c("final")), otherwise=c("draft"))


# --- the table ----------------------------------------------------------------------------

ACTOR = Replace(Field("actor", "Integer", required=True))  # §5.2: a plain number, not {"__id": n}

# Fields removed from v7 that v6 still answers, always null (§5.5; decisions.md: both of
# the seed's `vpn_channel` and the reference's `vpn_address`).
NULL_DEVICE_FIELDS = ("logs_channel", "vpn_channel", "vpn_address")

TABLE = Differences(
    resources={
        "device": (
            ACTOR,
            Replace(Field("overall_status", "Short Text", required=True, computed=overall_status)),
            # The guide: v6's `should_be_running__release` is the writable pin; a read
            # returns the pin only (null when the device tracks its fleet, §5.2).
            Alias("should_be_running__release", "is_pinned_on__release"),
            Alias("should_be_managed_by__supervisor_release", "should_be_managed_by__release",
                  target="supervisor_release"),
            Hide("changed_api_heartbeat_state_on__date"),  # v7 only (§5.2)
            *(Add(Field(name, "Text", computed=null("Text"))) for name in NULL_DEVICE_FIELDS),
            Add(Field("is_managed_by__device", "Integer", references="device", computed=null("Integer"))),
            AddNav(Navigation("is_managed_by__device", "device", "is_managed_by__device", "id", many=False)),
            AddNav(Navigation("manages__device", "device", "id", "is_managed_by__device", many=True)),
            AddNav(Navigation("downloads__image", "gateway_download", "id", "is_downloaded_by__device", many=True)),
        ),
        "device_history": (Alias("should_be_running__release", "is_pinned_on__release"),),
        "application": (
            ACTOR,
            Add(Field("depends_on__application", "Integer", references="application",
                      computed=null("Integer"))),
            AddNav(Navigation("depends_on__application", "application", "depends_on__application", "id",
                              many=False)),
            # The reference's synonym and the seed's spelling (decisions.md "Versions").
            AddNav(Navigation("is_depended_on_by__application", "application", "id", "depends_on__application",
                              many=True)),
            AddNav(Navigation("is_dependent_on_by__application", "application", "id", "depends_on__application",
                              many=True)),
        ),
        "user": (ACTOR,),
        "release": (
            Add(Field("release_type", "Short Text", required=True, computed=release_type)),
            # v6's pinned devices; `should_be_running_on__device` already means them here,
            # since v6's device.should_be_running__release is the pin.
            HideNav("is_pinned_to__device"),
        ),
        "image": (
            AddNav(Navigation("is_downloaded_by__device", "gateway_download", "id", "image", many=True)),
        ),
    },
    removed=("release_asset",),  # added in v7 (§5.1)
    added=(
        lambda derived: my_application(derived["application"]),
        lambda derived: gateway_download(),
        lambda derived: supervisor_release(derived["release"]),
    ),
)


# --- resources only v6 has ----------------------------------------------------------------

# §5.1: the fleets the caller has direct access to — v7's
# `application?$filter=is_directly_accessible_by__user/any(dau:true)`, whose permission rule
# narrows the pairs to the caller; a view's filter is trusted, so it names the caller.
MY_APPLICATIONS = "is_directly_accessible_by__user/any(dau:dau/user/any(u:u/actor eq @__ACTOR_ID))"


def my_application(application: Resource) -> Resource:
    return dataclasses.replace(application, name="my_application", synonyms=(), table="application",
                               where=MY_APPLICATIONS, rules_from="application")


def _no_downloads(ctx: ComputeContext) -> ir.Select:
    """§5.1: a SELECT of nulls under a false WHERE — always empty."""
    columns = tuple((ir.Cast(c(None), t), n) for n, t in (
        ("id", "Integer"), ("created_at", "Date Time"), ("image", "Integer"),
        ("is_downloaded_by__device", "Integer"), ("status", "Text"), ("download_progress", "Integer")))
    return ir.Select(columns, None, ir.Op("=", (c(1), c(0))))


def gateway_download() -> Resource:
    return Resource(
        "gateway_download",
        (
            Field("id", "Integer", required=True),
            Field("created_at", "Date Time"),
            Field("image", "Integer", references="image"),
            Field("is_downloaded_by__device", "Integer", references="device"),
            Field("status", "Text"),
            Field("download_progress", "Integer"),
        ),
        (
            Navigation("image", "image", "image", "id", many=False),
            Navigation("is_downloaded_by__device", "device", "is_downloaded_by__device", "id", many=False),
        ),
        synonyms=("image__is_downloaded_by__device",),
        query=_no_downloads,
        # It has no rows to hide: the catalogue's rule (anyone signed in reads it).
        rules_from="device_type",
    )


# decisions.md: the public fleets `balena_os/<arch>-supervisor` hold the supervisor releases.
SUPERVISOR_ARCHITECTURES = ("aarch64", "amd64", "armv7hf", "i386", "i386-nlp", "rpi")
SUPERVISOR_FLEETS = tuple(f"balena_os/{arch}-supervisor" for arch in SUPERVISOR_ARCHITECTURES)
SUPERVISOR_RELEASES = (
    "belongs_to__application/any(a:a/is_public eq true and a/slug in ("
    + ",".join(f"'{slug}'" for slug in SUPERVISOR_FLEETS) + "))")


def _image_name(ctx: ComputeContext) -> ir.Expr:
    """The location of the release's (first) image."""
    ri, im = ctx.alias("release_image"), ctx.alias("image")
    return ir.Scalar(ir.Select(
        ((ir.Col(im, "is_stored_at__image_location"), None),),
        ir.Join(ir.Table("release_image", ri), ir.Table("image", im),
                eq(ir.Col(im, "id"), ir.Col(ri, "image")), "INNER"),
        eq(ir.Col(ri, "is_part_of__release"), ctx.col("id")),
        (ir.OrderBy(ir.Col(im, "id")),),
        c(1),
    ))


def _fleet_device_type(ctx: ComputeContext) -> ir.Expr:
    a = ctx.alias("fleet")
    return ir.Scalar(ir.Select(
        ((ir.Col(a, "is_for__device_type"), None),),
        ir.Table("application", a),
        eq(ir.Col(a, "id"), ctx.col("belongs_to__application")),
    ))


def supervisor_release(release: Resource) -> Resource:
    """decisions.md: one row per release of a supervisor fleet — `supervisor_version` its
    raw version, `image_name` its image's location, `is_public` true, its `note`, and
    the fleet's device type. A view of the release table under release's rules (the
    fleet is public, so everyone signed in reads it)."""
    shown = ("id", "created_at", "note")
    stored = [f if f.name in shown else hidden(f) for f in release.fields if f.stored]
    note = next(f for f in stored if f.name == "note")
    fields = [f for f in stored if f.name != "note"] + [
        Field("supervisor_version", "Short Text", required=True, computed=release_versions.raw_version),
        Field("image_name", "Short Text", computed=_image_name),
        Field("is_public", "Boolean", required=True, computed=lambda ctx: c(True)),
        note,
        Field("is_for__device_type", "Integer", references="device_type", computed=_fleet_device_type),
    ]
    return Resource(
        "supervisor_release",
        tuple(fields),
        hidden_navigations(release, (
            Navigation("is_for__device_type", "device_type", "is_for__device_type", "id", many=False),
            Navigation("should_manage__device", "device", "id", "should_be_managed_by__supervisor_release",
                       many=True),
        )),
        table="release",
        where=SUPERVISOR_RELEASES,
        rules_from="release",
    )


# --- what the rest of the stage uses ------------------------------------------------------

_MODEL: Model | None = None


def model() -> Model:
    """v6's model, derived once from v7's."""
    global _MODEL
    if _MODEL is None:
        _MODEL = derive(V7, TABLE)
    return _MODEL


# v6 resources that are views or queries: they answer reads only (a write would bypass
# the rules of the resource they show).
READ_ONLY = frozenset({"my_application", "gateway_download", "supervisor_release"})

# What v6 answers differently from the stored type (§5.2, §5.5): per resource, field →
# format name (`answers.FORMATS`).
ANSWER_FORMATS: Mapping[str, Mapping[str, str]] = {
    "image": {"image_size": "number"},
    "release": {"contract": "json_text"},
}
