"""One seeded database of the test model, shared by the engine's tests (Datasette's habit:
one rich fixture, many tests). Rows are written through the engine itself."""

from __future__ import annotations

from fleetyard.db import Database
from fleetyard.db.migrations import migrate
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions
from tests.odata.model import MODEL, WIDE_FIELDS

ALL = Permissions.all()

HIRED = "2020-01-02T03:04:05.678Z"


async def seeded(db: Database) -> Engine:
    await migrate(db, MODEL)
    engine = Engine(MODEL, db)
    post = engine.post
    for name in ("Alpha", "Beta"):
        await post("/licence", {"name": name}, ALL)
    for name in ("Concorde", "747", "A380"):
        await post("/plane", {"name": name}, ALL)
    await post("/team", {"favourite_colour": "purple", "name": "Purples"}, ALL)
    await post("/team", {"favourite_colour": "red", "name": "Reds"}, ALL)
    await post("/pilot", {
        "name": "Peter", "age": 45, "is_experienced": True, "licence": 1, "is_on__team": "purple",
        "hire_date": HIRED, "rating": 4.5, "flight_hours": 9007199254740993,
        "profile": {"call_sign": "pete", "ratings": [1, 2]}, "favourite_colour": "blue",
    }, ALL)
    await post("/pilot", {"name": "Harry", "age": 30, "licence": 2, "was_trained_by__pilot": 1,
                          "is_on__team": "purple", "hire_date": "2021-06-30T12:00:00.000Z"}, ALL)
    await post("/pilot", {"name": "Pat", "was_trained_by__pilot": 1, "favourite_colour": "red",
                          "is_on__team": "red"}, ALL)
    await post("/pilot", {"name": "O'Brien 100% a/b & c", "age": 52, "is_experienced": "true",
                          "hire_date": "2019-12-31T23:59:59.999Z"}, ALL)
    for pilot, plane in ((1, 1), (1, 2), (2, 2), (3, 3)):
        await post("/pilot__can_fly__plane", {"pilot": pilot, "can_fly__plane": plane}, ALL)
    for pilot, kind, number in ((1, "passport", "P1"), (1, "idcard", "I1"), (2, "passport", "P2")):
        await post("/identification_method",
                   {"pilot": pilot, "identification_type": kind, "identification_number": number}, ALL)
    gauge = {f"reading_{i:02d}": i for i in range(WIDE_FIELDS)}
    await post("/gauge", {"pilot": 1, **gauge, "calibrated_at": HIRED}, ALL)
    return engine
