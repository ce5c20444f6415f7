"""Accounts: actor, user, organization, the memberships of users in organizations and
fleets with their roles, users' public keys, and who has direct access to which fleet.

Part of `model/balena` (spec/model.md §1.10-1.13, §1.30, §1.35; the membership resources
from spec/decisions.md). Actor rows, username normalisation and password hashing are
domain rules.
"""

from __future__ import annotations

from fleetyard.model.balena.common import (
    alias_one, children, common, fk, short, text, to_many, to_one,
)
from fleetyard.model.balena.computed import all_of, any_of, c, eq, exists
from fleetyard.model.schema import ComputeContext, Field, Resource
from fleetyard.sql import ir

actor = Resource(
    "actor",
    common(),
    to_many("user", "actor", "is_of__user")
    + to_many("application", "actor", "is_of__application")
    + to_many("device", "actor", "is_of__device")
    + to_many("api_key", "is_of__actor", "api_key", "has__api_key"),
)

user = Resource(
    "user",
    common() + (
        fk("actor", "actor", required=True, unique=True),
        short("username", required=True, unique=True),
        # §1.12 / §8.4: stored, never returned (the cloud hides both).
        Field("password", "Text", readable=False),
        Field("jwt_secret", "Short Text", readable=False),
        text("email", unique=True),
    ),
    to_one("actor", "actor")
    + children("user_public_key", "user__has__public_key", "user", "has__public_key")
    + children("organization_membership", "user__is_member_of__organization", "user",
               "is_member_of__organization")
    + children("user_application_membership", "user__is_member_of__application", "user",
               "is_member_of__application")
    + children("user_role", "user__has__role", "user", "has__role")
    + children("user_permission", "user__has__permission", "user", "has__permission")
    + to_many("user__has_direct_access_to__application", "user", "has_direct_access_to__application")
    + to_many("release", "is_created_by__user", "creates__release"),
)

organization = Resource(
    "organization",
    common() + (
        short("name", required=True),
        short("handle", required=True, unique=True),
    ),
    to_many("application", "organization", "application", "has__application", "is_of__application")
    + children("organization_membership", "user__is_member_of__organization", "is_member_of__organization",
               "has__organization_membership", "includes__user", "includes__organization_membership"),
)

# decisions.md: roles `administrator` and `member` (rows seeded by the accounts layer).
organization_membership_role = Resource(
    "organization_membership_role",
    common() + (short("name", required=True, unique=True),),
    to_many("organization_membership", "organization_membership_role",
            "is_of__organization_membership", "is_of__user__is_member_of__organization",
            "organization_membership"),
)

organization_membership = Resource(
    "organization_membership",
    common() + (
        fk("user", "user", required=True),
        fk("is_member_of__organization", "organization", required=True),
        fk("organization_membership_role", "organization_membership_role", required=True),
    ),
    to_one("user", "user")
    + alias_one("user", "user", "includes__user")
    + to_one("organization", "is_member_of__organization")
    + alias_one("organization", "is_member_of__organization", "organization")
    + to_one("organization_membership_role", "organization_membership_role"),
    synonyms=("user__is_member_of__organization",),
    unique_together=(("user", "is_member_of__organization"),),
)

# decisions.md: roles `developer`, `operator`, `observer`.
application_membership_role = Resource(
    "application_membership_role",
    common() + (
        short("name", required=True, unique=True),
        short("description"),
    ),
    to_many("user_application_membership", "application_membership_role",
            "is_of__user_application_membership", "is_of__user__is_member_of__application",
            "user_application_membership"),
)

user_application_membership = Resource(
    "user_application_membership",
    common() + (
        fk("user", "user", required=True),
        fk("is_member_of__application", "application", required=True),
        fk("application_membership_role", "application_membership_role", required=True),
    ),
    to_one("user", "user")
    + alias_one("user", "user", "includes__user")
    + to_one("application", "is_member_of__application")
    + alias_one("application", "is_member_of__application", "application")
    + to_one("application_membership_role", "application_membership_role"),
    synonyms=("user__is_member_of__application",),
    unique_together=(("user", "is_member_of__application"),),
)

# §1.30: the key is Text (up to 2850 characters), unique per user.
user_public_key = Resource(
    "user_public_key",
    common() + (
        fk("user", "user", required=True),
        text("public_key", required=True),
        short("title", required=True),
    ),
    to_one("user", "user"),
    synonyms=("user__has__public_key",),
    unique_together=(("user", "public_key"),),
)


def _direct_access(ctx: ComputeContext) -> ir.Select:
    """§1.35 with decisions.md's rule: a user has direct access to the fleets of the
    organizations they belong to and to the fleets they are a member of — never to a
    public fleet through publicity alone. Every (user, fleet) pair; the permission rule
    on this resource narrows it to the caller (`user/actor eq @__ACTOR_ID`)."""
    u, a = ctx.alias("user"), ctx.alias("fleet")
    om, am = ctx.alias("org_member"), ctx.alias("fleet_member")
    through_organization = exists("organization_membership", om, all_of(
        eq(ir.Col(om, "user"), ir.Col(u, "id")),
        eq(ir.Col(om, "is_member_of__organization"), ir.Col(a, "organization"))))
    through_fleet = exists("user_application_membership", am, all_of(
        eq(ir.Col(am, "user"), ir.Col(u, "id")),
        eq(ir.Col(am, "is_member_of__application"), ir.Col(a, "id"))))
    return ir.Select(
        (
            (ir.Cast(c(None), "Integer"), "id"),  # always null, as the reference
            (ir.Col(u, "id"), "user"),
            (ir.Col(a, "id"), "has_direct_access_to__application"),
        ),
        ir.Join(ir.Table("user", u), ir.Table("application", a),
                any_of(through_organization, through_fleet), "INNER"),
    )


user__has_direct_access_to__application = Resource(
    "user__has_direct_access_to__application",
    (
        Field("id", "Integer"),
        fk("user", "user"),
        fk("has_direct_access_to__application", "application"),
    ),
    to_one("user", "user")
    + alias_one("user", "user", "is_directly_accessible_by__user")
    + to_one("application", "has_direct_access_to__application"),
    query=_direct_access,
)

RESOURCES = (
    actor, user, organization, organization_membership_role, organization_membership,
    application_membership_role, user_application_membership, user_public_key,
    user__has_direct_access_to__application,
)
