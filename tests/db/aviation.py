"""A small model of our own for the database stage's tests: pilots, planes, licences.

It has every field type, serial ids, foreign keys (one of them a cycle: a pilot's favourite
plane, a plane's pilot), unique fields, a composite unique set, defaults and a Short Text limit.
"""

from __future__ import annotations

from fleetyard.model.schema import NOW, Field, Model, Navigation, Resource

PILOT = Resource(
    name="pilot",
    fields=(
        Field("id", "Serial"),
        Field("created_at", "Date Time", required=True, default=NOW),
        Field("name", "Short Text", required=True, unique=True, max_length=20),
        Field("age", "Integer"),
        Field("flight_hours", "Big Integer", default=0),
        Field("rating", "Real"),
        Field("is_experienced", "Boolean", required=True, default=False),
        Field("is_certified", "Boolean", default=True),
        Field("born_on", "Date"),
        Field("biography", "Text", default="none yet"),
        Field("preferences", "JSON"),
        Field("likes__plane", "Integer", references="plane"),
        Field("was_trained_by__pilot", "Integer", references="pilot"),
    ),
    navigations=(
        Navigation("likes__plane", "plane", "likes__plane", "id", many=False),
        Navigation("flies__plane", "plane", "id", "is_flown_by__pilot", many=True),
    ),
)

PLANE = Resource(
    name="plane",
    fields=(
        Field("id", "Big Serial"),
        Field("name", "Short Text", required=True),
        Field("is_flown_by__pilot", "Integer", references="pilot"),
        Field("serial_number", "Text", unique=True),
    ),
    navigations=(Navigation("is_flown_by__pilot", "pilot", "is_flown_by__pilot", "id", many=False),),
    unique_together=(("is_flown_by__pilot", "name"),),
)

LICENCE = Resource(
    name="licence",
    fields=(
        Field("id", "Serial"),
        Field("is_of__pilot", "Integer", required=True, references="pilot"),
        Field("is_for__plane", "Integer", required=True, references="plane"),
        Field("code", "Short Text", required=True),
        Field("valid_until", "Date Time"),
        Field("is_active", "Boolean", required=True, default=True),
    ),
    unique_together=(("is_for__plane", "is_of__pilot"),),
)

MODEL = Model([PILOT, PLANE, LICENCE])
