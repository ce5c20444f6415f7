"""balena's computed fields as SQL-tree builders: device status, progress and target
release; release versions.

Part of `model/balena`. Each builder takes a `ComputeContext` (this row's columns, fresh
aliases) and returns an `ir` expression that the resolver puts wherever the field is read
— select lists, filters, orders, expansions — so one definition serves every query. The
nodes are dialect-neutral: only functions both renderers know are used.
"""

from __future__ import annotations

from fleetyard.model.schema import ComputeContext
from fleetyard.sql import ir

# --- small constructors -------------------------------------------------------------------


def c(value: object) -> ir.Const:
    return ir.Const(value)


def eq(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Op("=", (a, b))


def ne(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Op("<>", (a, b))


def all_of(*parts: ir.Expr) -> ir.Expr:
    return ir.Op("AND", parts)


def any_of(*parts: ir.Expr) -> ir.Expr:
    return ir.Op("OR", parts)


def concat(*parts: ir.Expr) -> ir.Expr:
    return ir.Op("||", parts)


def case(*whens: tuple[ir.Expr, ir.Expr], otherwise: ir.Expr | None = None) -> ir.Expr:
    return ir.Case(tuple(whens), otherwise)


def exists(table: str, alias: str, where: ir.Expr) -> ir.Expr:
    return ir.Exists(ir.Select(((c(1), None),), ir.Table(table, alias), where))


# --- device (spec/model.md §4.6-§4.8) -------------------------------------------------------

VPN_CONTROL = ("BALENA_SUPERVISOR_VPN_CONTROL", "RESIN_SUPERVISOR_VPN_CONTROL")


def is_web_accessible(ctx: ComputeContext) -> ir.Expr:
    """Always false in the reference (§4.8); the device-url hook refuses to set it."""
    return c(False)


def should_be_running__release(ctx: ComputeContext) -> ir.Expr:
    """The device's pin, else its fleet's target (§1.2): a foreign key to release that
    can be filtered on, navigated and expanded like a stored one."""
    a = ctx.alias("fleet")
    fleet_target = ir.Scalar(ir.Select(
        ((ir.Col(a, "should_be_running__release"), None),),
        ir.Table("application", a),
        eq(ir.Col(a, "id"), ctx.col("belongs_to__application")),
    ))
    return ir.Func("coalesce", (ctx.col("is_pinned_on__release"), fleet_target))


def _heartbeat_in(ctx: ComputeContext, *states: str) -> ir.Expr:
    return ir.InList(ctx.col("api_heartbeat_state"), tuple(c(s) for s in states))


def _pre_provisioning(ctx: ComputeContext) -> ir.Expr:
    # §4.6 row 3: never seen by the VPN nor the heartbeat.
    return all_of(ir.Not(ctx.col("is_connected_to_vpn")),
                  ir.IsNull(ctx.col("last_connectivity_event")),
                  eq(ctx.col("api_heartbeat_state"), c("unknown")))


def _disconnected(ctx: ComputeContext) -> ir.Expr:
    # §4.6 row 4
    return all_of(ir.Not(ctx.col("is_connected_to_vpn")), _heartbeat_in(ctx, "offline", "unknown"))


def _device_downloading(ctx: ComputeContext) -> ir.Expr:
    return all_of(ir.IsNull(ctx.col("download_progress"), negate=True),
                  eq(ctx.col("status"), c("Downloading")))


def _install_downloading(ctx: ComputeContext) -> ir.Expr:
    """EXISTS an image_install of this device downloading (§4.6 row 7), a correlated
    probe that runs only for rows reaching its branch (spec/sql-floor.md)."""
    ii = ctx.alias("install")
    return exists("image_install", ii, all_of(
        eq(ir.Col(ii, "device"), ctx.col("id")),
        ir.IsNull(ir.Col(ii, "download_progress"), negate=True),
        eq(ir.Col(ii, "status"), c("Downloading")),
    ))


def _vpn_control_value(table: str, alias: str, owner: str, owner_id: ir.Expr) -> ir.Expr:
    """The first of the VPN-control config variables by name (BALENA_ before RESIN_)."""
    return ir.Scalar(ir.Select(
        ((ir.Col(alias, "value"), None),),
        ir.Table(table, alias),
        all_of(eq(ir.Col(alias, owner), owner_id),
               ir.InList(ir.Col(alias, "name"), tuple(c(n) for n in VPN_CONTROL))),
        (ir.OrderBy(ir.Col(alias, "name"), text=True),),
        c(1),
    ))


def _vpn_enabled(ctx: ComputeContext) -> ir.Expr:
    """§4.6: the device's VPN-control variable, else the fleet's, else 'not set'; the VPN
    counts as enabled unless that value is exactly 'false'."""
    value = ir.Func("coalesce", (
        _vpn_control_value("device_config_variable", ctx.alias("dcv"), "device", ctx.col("id")),
        _vpn_control_value("application_config_variable", ctx.alias("acv"), "application",
                           ctx.col("belongs_to__application")),
        c("not set"),
    ))
    return ne(value, c("false"))


def overall_status(ctx: ComputeContext) -> ir.Expr:
    """§4.6, first match wins. Row 1 uses the cloud's `is_active` (decisions.md)."""
    vpn = ctx.col("is_connected_to_vpn")
    hb = ctx.col("api_heartbeat_state")
    return case(
        (ir.Not(ctx.col("is_active")), c("inactive")),
        (eq(ctx.col("provisioning_state"), c("Post-Provisioning")), c("post-provisioning")),
        (_pre_provisioning(ctx), c("configuring")),
        (_disconnected(ctx), c("disconnected")),
        (all_of(_heartbeat_in(ctx, "online", "timeout"), _device_downloading(ctx)), c("updating")),
        (ir.IsNull(ctx.col("provisioning_progress"), negate=True), c("configuring")),
        (all_of(_heartbeat_in(ctx, "online", "timeout"), _install_downloading(ctx)), c("updating")),
        (any_of(
            eq(hb, c("timeout")),
            all_of(vpn, ne(hb, c("online"))),
            all_of(ir.Not(vpn), eq(hb, c("online")), _vpn_enabled(ctx)),
        ), c("reduced-functionality")),
        otherwise=c("operational"),
    )


def _installs_progress(ctx: ComputeContext) -> ir.Expr:
    """§4.7 row 7: the rounded (half away from zero) mean progress of the device's live
    installs that are downloading or belong to its target release, a missing progress
    counting as 100."""
    ii = ctx.alias("progress")
    mean = ir.Func("avg", (ir.Func("coalesce", (ir.Col(ii, "download_progress"), c(100))),))
    return ir.Scalar(ir.Select(
        ((ir.Cast(ir.Func("round", (mean,)), "Integer"), None),),
        ir.Table("image_install", ii),
        all_of(
            eq(ir.Col(ii, "device"), ctx.col("id")),
            ne(ir.Col(ii, "status"), c("deleted")),
            any_of(eq(ir.Col(ii, "status"), c("Downloading")),
                   eq(ir.Col(ii, "is_provided_by__release"), ctx.col("should_be_running__release"))),
        ),
    ))


def overall_progress(ctx: ComputeContext) -> ir.Expr:
    """§4.7, first match wins; row 5 has no heartbeat condition, unlike the status."""
    provisioning = ctx.col("provisioning_progress")
    return case(
        (ir.Not(ctx.col("is_active")), c(None)),
        (eq(ctx.col("provisioning_state"), c("Post-Provisioning")), provisioning),
        (_pre_provisioning(ctx), provisioning),
        (_disconnected(ctx), c(None)),
        (_device_downloading(ctx), ctx.col("download_progress")),
        (ir.IsNull(provisioning, negate=True), provisioning),
        (_install_downloading(ctx), _installs_progress(ctx)),
        otherwise=c(None),
    )
