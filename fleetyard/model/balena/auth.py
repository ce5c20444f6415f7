"""Auth internals present in the v7 model: api_key, permission, role and their links
to users and keys, and the server's config rows.

Part of `model/balena` (spec/model.md §1.14, §1.33, §1.34). Users get no rights on most
of these (a 401 through the permission layer); keys are created by custom endpoints.
"""

from __future__ import annotations

from fleetyard.model.balena.common import children, common, date, fk, short, text, to_many, to_one
from fleetyard.model.schema import Field, Navigation, Resource

# §1.14: the key is a secret (stored as a SHA-256 hash, DESIGN.md), never readable.
api_key = Resource(
    "api_key",
    common() + (
        Field("key", "Short Text", required=True, unique=True, readable=False),
        date("expiry_date"),
        fk("is_of__actor", "actor", required=True),
        short("name"),
        text("description"),
    ),
    to_one("actor", "is_of__actor")
    + children("api_key__has__role", "api_key__has__role", "api_key", "has__role")
    + children("api_key__has__permission", "api_key__has__permission", "api_key", "has__permission"),
)

# Permission names are whole permission strings with their filters: longer than 255.
permission = Resource(
    "permission",
    common() + (text("name", required=True, unique=True),),
    to_many("role__has__permission", "permission", "role__has__permission", "is_of__role")
    + to_many("user_permission", "permission", "user_permission", "user__has__permission",
              "is_of__user")
    + to_many("api_key__has__permission", "permission", "api_key__has__permission",
              "is_of__api_key"),
)

role = Resource(
    "role",
    common() + (text("name", required=True, unique=True),),
    to_many("role__has__permission", "role", "role__has__permission", "has__permission")
    + to_many("user_role", "role", "user_role", "user__has__role", "is_of__user")
    + to_many("api_key__has__role", "role", "api_key__has__role", "is_of__api_key"),
)


def _link(name: str, left: str, right: str, *, synonym: str | None = None,
          extra: tuple[Field, ...] = ()) -> Resource:
    """A "left has right" link resource: one row per pair."""
    navs: tuple[Navigation, ...] = to_one(left, left) + to_one(right, right)
    return Resource(
        name,
        common() + (fk(left, left, required=True), fk(right, right, required=True)) + extra,
        navs,
        synonyms=(synonym,) if synonym else (),
        unique_together=((left, right),),
    )


role__has__permission = _link("role__has__permission", "role", "permission")
user_role = _link("user_role", "user", "role", synonym="user__has__role",
                  extra=(date("expiry_date"),))
user_permission = _link("user_permission", "user", "permission", synonym="user__has__permission",
                        extra=(date("expiry_date"),))
api_key__has__role = _link("api_key__has__role", "api_key", "role")
api_key__has__permission = _link("api_key__has__permission", "api_key", "permission")

# §1.33
config = Resource(
    "config",
    common() + (
        short("key", required=True),
        text("value", required=True),
        short("scope"),
        text("description"),
    ),
)

RESOURCES = (
    api_key, permission, role, role__has__permission, user_role, user_permission,
    api_key__has__role, api_key__has__permission, config,
)
