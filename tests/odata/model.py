"""The engine's own test model: pilots, planes, licences, teams (the names the corpus of
the reference's test suites uses), plus what balena's model needs from the engine: a
wide resource, computed fields, a computed foreign key and a resource defined by a query.
"""

from __future__ import annotations

from fleetyard.model.schema import NOW, ComputeContext, Field, Model, Navigation, Resource
from fleetyard.sql import ir


def _common() -> tuple[Field, ...]:
    return (
        Field("id", "Serial", required=True),
        Field("created_at", "Date Time", required=True, default=NOW, writable=False),
        Field("modified_at", "Date Time", required=True, default=NOW, writable=False, touch=True),
    )


def _is_senior(ctx: ComputeContext) -> ir.Expr:
    # age >= 40, false when unknown
    return ir.Op("AND", (ir.IsNull(ctx.col("age"), negate=True), ir.Op(">=", (ctx.col("age"), ir.Const(40)))))


def _first_plane(ctx: ComputeContext) -> ir.Expr:
    """A computed foreign key: the plane of the pilot's first flight permission."""
    a = ctx.alias("first_plane")
    return ir.Scalar(ir.Select(
        ((ir.Col(a, "can_fly__plane"), None),),
        ir.Table("pilot__can_fly__plane", a),
        ir.Op("=", (ir.Col(a, "pilot"), ctx.col("id"))),
        (ir.OrderBy(ir.Col(a, "id")),),
        ir.Const(1),
    ))


def _pilot_plane(ctx: ComputeContext) -> ir.Select:
    """A resource defined by a query: who flies what, by plane name."""
    link, plane = ctx.alias("link"), ctx.alias("plane")
    return ir.Select(
        (
            (ir.Col(link, "id"), "id"),
            (ir.Col(link, "pilot"), "pilot"),
            (ir.Col(plane, "name"), "plane_name"),
        ),
        ir.Join(ir.Table("pilot__can_fly__plane", link), ir.Table("plane", plane),
                ir.Op("=", (ir.Col(plane, "id"), ir.Col(link, "can_fly__plane"))), "INNER"),
    )


WIDE_FIELDS = 70

MODEL = Model([
    Resource(
        "licence",
        _common() + (Field("name", "Short Text"),),
        (Navigation("is_of__pilot", "pilot", "id", "licence", many=True),),
    ),
    Resource(
        "plane",
        _common() + (Field("name", "Short Text", required=True),),
        (Navigation("can_be_flown_by__pilot", "pilot__can_fly__plane", "id", "can_fly__plane", many=True),),
        synonyms=("aircraft",),
    ),
    Resource(
        "team",
        (
            Field("favourite_colour", "Short Text", required=True, unique=True),
            Field("created_at", "Date Time", required=True, default=NOW, writable=False),
            Field("name", "Short Text"),
        ),
        (Navigation("includes__pilot", "pilot", "favourite_colour", "is_on__team", many=True),),
        id_field="favourite_colour",
    ),
    Resource(
        "pilot",
        _common() + (
            Field("name", "Short Text", required=True),
            Field("age", "Integer"),
            Field("favourite_colour", "Short Text"),
            Field("is_experienced", "Boolean", required=True, default=False),
            Field("hire_date", "Date Time"),
            Field("licence", "Integer", references="licence"),
            Field("was_trained_by__pilot", "Integer", references="pilot"),
            Field("is_on__team", "Short Text", references="team"),
            Field("rating", "Real"),
            Field("flight_hours", "Big Integer"),
            Field("profile", "JSON"),
            Field("is_senior", "Boolean", computed=_is_senior),
            Field("first__plane", "Integer", references="plane", computed=_first_plane),
        ),
        (
            Navigation("licence", "licence", "licence", "id", many=False),
            Navigation("was_trained_by__pilot", "pilot", "was_trained_by__pilot", "id", many=False),
            Navigation("trained__pilot", "pilot", "id", "was_trained_by__pilot", many=True),
            Navigation("is_on__team", "team", "is_on__team", "favourite_colour", many=False),
            Navigation("can_fly__plane", "pilot__can_fly__plane", "id", "pilot", many=True),
            Navigation("identification_method", "identification_method", "id", "pilot", many=True),
            Navigation("first__plane", "plane", "first__plane", "id", many=False),
            Navigation("flies", "pilot_plane", "id", "pilot", many=True),
            Navigation("gauge", "gauge", "id", "pilot", many=True),
        ),
    ),
    Resource(
        "pilot__can_fly__plane",
        _common() + (
            Field("pilot", "Integer", required=True, references="pilot"),
            Field("can_fly__plane", "Integer", required=True, references="plane"),
        ),
        (
            Navigation("pilot", "pilot", "pilot", "id", many=False),
            Navigation("can_fly__plane", "plane", "can_fly__plane", "id", many=False),
            Navigation("plane", "plane", "can_fly__plane", "id", many=False),
        ),
        synonyms=("pilot_can_fly_plane",),
        unique_together=(("pilot", "can_fly__plane"),),
    ),
    Resource(
        "identification_method",
        _common() + (
            Field("pilot", "Integer", required=True, references="pilot"),
            Field("identification_type", "Short Text", required=True),
            Field("identification_number", "Short Text"),
        ),
        (Navigation("pilot", "pilot", "pilot", "id", many=False),),
        unique_together=(("pilot", "identification_type"),),
    ),
    Resource(
        "copilot",
        _common() + (
            Field("rank", "Short Text", choices=("major", "captain", "lieutenant")),
            Field("assists__pilot", "Integer", references="pilot"),
        ),
        (Navigation("assists__pilot", "pilot", "assists__pilot", "id", many=False),),
    ),
    Resource(
        "pilot_plane",
        (
            Field("id", "Integer", required=True),
            Field("pilot", "Integer", references="pilot"),
            Field("plane_name", "Short Text"),
        ),
        (Navigation("pilot", "pilot", "pilot", "id", many=False),),
        query=_pilot_plane,
    ),
    Resource(
        "gauge",
        _common() + (Field("pilot", "Integer", references="pilot"),)
        + tuple(Field(f"reading_{i:02d}", "Integer") for i in range(WIDE_FIELDS))
        + (Field("is_calibrated", "Boolean", required=True, default=True),
           Field("calibrated_at", "Date Time")),
        (Navigation("pilot", "pilot", "pilot", "id", many=False),),
    ),
    # A view: pilots of forty and over, under pilot's own permission rules (so it has
    # the fields those rules name).
    Resource(
        "senior_pilot",
        _common() + (Field("name", "Short Text", required=True), Field("age", "Integer"),
                     Field("licence", "Integer", references="licence"),
                     Field("is_on__team", "Short Text", references="team")),
        (Navigation("licence", "licence", "licence", "id", many=False),),
        table="pilot",
        where="age ge 40",
        rules_from="pilot",
    ),
    Resource("student", _common() + (
        Field("name", "Short Text", required=True),
        Field("password", "Short Text", readable=False),
    )),
])
