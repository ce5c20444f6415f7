"""A small balena world with at least one row in every stored resource, written through
the engine: the shared fixture of the balena model's tests (Datasette's habit).

Ids are predictable (each table starts at 1, rows in the order written), so tests name
rows by id. Values are the raw columns; no domain rule runs (slugs, actors, revisions
are written as a domain layer would have written them).
"""

from __future__ import annotations

from fleetyard.db import Database
from fleetyard.db.migrations import migrate
from fleetyard.model.balena import MODEL
from fleetyard.odata.engine import Engine
from fleetyard.odata.permissions import Permissions

ALL = Permissions.all()
START = "2024-05-01T10:00:00.000Z"


async def engine_for(db: Database) -> Engine:
    """The balena model migrated into `db`, and an engine over it."""
    await migrate(db, MODEL)
    return Engine(MODEL, db)


async def base(engine: Engine) -> None:
    """Device types, one organization, one fleet (id 1) with two releases: 1 (final,
    revision 0) and 2 (final, revision 1); release 1 is the fleet's target."""
    post = engine.post
    await post("/cpu_architecture", {"slug": "aarch64"}, ALL)
    await post("/cpu_architecture", {"slug": "amd64"}, ALL)
    await post("/device_manufacturer", {"slug": "raspberrypi", "name": "Raspberry Pi"}, ALL)
    await post("/device_family", {"slug": "raspberrypi", "name": "Raspberry Pi",
                                  "is_manufactured_by__device_manufacturer": 1}, ALL)
    await post("/device_type", {"slug": "raspberrypi4-64", "name": "Raspberry Pi 4 (using 64bit OS)",
                                "is_of__cpu_architecture": 1, "belongs_to__device_family": 1,
                                "contract": {"slug": "raspberrypi4-64"}}, ALL)
    await post("/device_type", {"slug": "genericx86-64-ext", "name": "Generic AMD64 (x86-64)",
                                "is_of__cpu_architecture": 2}, ALL)
    await post("/application_type", {"name": "Default", "slug": "default",
                                     "supports_multicontainer": True, "supports_gateway_mode": True,
                                     "needs__os_version_range": ">=2.11.0"}, ALL)
    for _ in range(4):  # actors 1-2: users; 3-4: fleets
        await post("/actor", {}, ALL)
    await post("/user", {"actor": 1, "username": "alice", "email": "alice@example.com",
                         "password": "$argon2id$hash", "jwt_secret": "S" * 32}, ALL)
    await post("/user", {"actor": 2, "username": "bob"}, ALL)
    await post("/organization", {"name": "Acme", "handle": "acme"}, ALL)
    await post("/organization", {"name": "balena_os", "handle": "balena_os"}, ALL)
    await fleet(engine, actor=3, organization=1, slug="acme/fleet", uuid="a" * 32)
    await fleet(engine, actor=4, organization=2, slug="balena_os/raspberrypi4-64", uuid="b" * 32,
                is_public=True, is_host=True)
    await release(engine, 1, commit="c1", revision=0, semver_major=1)
    await release(engine, 1, commit="c2", revision=1, semver_major=1)
    await engine.patch("/application(1)", {"should_be_running__release": 1}, ALL)


async def fleet(engine: Engine, *, actor: int, organization: int, slug: str, uuid: str,
                **extra: object) -> dict:
    return await engine.post("/application", {
        "actor": actor, "organization": organization, "app_name": slug.split("/")[1], "slug": slug,
        "is_for__device_type": 1, "application_type": 1, "uuid": uuid, **extra}, ALL)


async def release(engine: Engine, fleet_id: int, **fields: object) -> dict:
    body = {"belongs_to__application": fleet_id, "commit": "c", "composition": {}, "status": "success",
            "source": "cloud", "start_timestamp": START}
    return await engine.post("/release", {**body, **fields}, ALL)


async def device(engine: Engine, n: int, fleet_id: int | None = 1, **fields: object) -> dict:
    """A device with a fresh actor and uuid `n` (hex, 32 wide)."""
    actor = await engine.post("/actor", {}, ALL)
    body = {"actor": actor["id"], "uuid": f"{n:032x}", "device_name": f"device-{n}",
            "is_of__device_type": 1, "belongs_to__application": fleet_id}
    return await engine.post("/device", {**body, **fields}, ALL)


async def everything(engine: Engine) -> None:
    """`base` plus one row or more in every other stored resource."""
    await base(engine)
    post = engine.post
    await release(engine, 2, commit="os1", revision=0, semver_major=6)  # release 3
    await post("/organization_membership_role", {"name": "administrator"}, ALL)
    await post("/organization_membership_role", {"name": "member"}, ALL)
    for role in ("developer", "operator", "observer"):
        await post("/application_membership_role", {"name": role}, ALL)
    await post("/organization_membership",
               {"user": 1, "is_member_of__organization": 1, "organization_membership_role": 1}, ALL)
    await post("/user_application_membership",
               {"user": 2, "is_member_of__application": 2, "application_membership_role": 1}, ALL)
    await post("/device_type_alias", {"device_type": 1, "is_referenced_by__alias": "raspberrypi4-64"}, ALL)
    await post("/device_type_alias", {"device_type": 2, "is_referenced_by__alias": "intel-nuc"}, ALL)
    await post("/service", {"application": 1, "service_name": "main"}, ALL)
    await post("/service", {"application": 2, "service_name": "hostapp"}, ALL)
    for i, svc in ((1, 1), (2, 2)):
        await post("/image", {"start_timestamp": START, "is_a_build_of__service": svc,
                              "is_stored_at__image_location": f"registry/v2/{i:032x}", "status": "success",
                              "image_size": 9007199254740993}, ALL)
    await post("/release_image", {"image": 1, "is_part_of__release": 1}, ALL)
    await post("/release_image", {"image": 2, "is_part_of__release": 3}, ALL)
    await post("/image_label", {"release_image": 1, "label_name": "io.balena.features.dbus", "value": "1"}, ALL)
    await post("/image_environment_variable", {"release_image": 1, "name": "BUILT", "value": "yes"}, ALL)
    await post("/service_label", {"service": 1, "label_name": "io.balena.features.kernel-modules", "value": "1"}, ALL)
    await post("/service_environment_variable", {"service": 1, "name": "MODE", "value": "prod"}, ALL)
    await post("/service_instance", {"service_type": "vpn", "ip_address": "10.0.0.1",
                                     "last_heartbeat": START}, ALL)
    await device(engine, 1, is_managed_by__service_instance=1, is_running__release=1,
                 is_pinned_on__release=2, should_be_operated_by__release=3,
                 should_be_managed_by__release=3)
    await device(engine, 2, fleet_id=2)
    for path, body in (
        ("/device_environment_variable", {"device": 1, "name": "DEBUG", "value": "1"}),
        ("/device_config_variable", {"device": 1, "name": "BALENA_SUPERVISOR_POLL_INTERVAL", "value": "900000"}),
        ("/device_tag", {"device": 1, "tag_key": "room", "value": "kitchen"}),
        ("/device_tag", {"device": 2, "tag_key": "room", "value": "garage"}),
        ("/application_environment_variable", {"application": 1, "name": "LEVEL", "value": "3"}),
        ("/application_config_variable", {"application": 1, "name": "RESIN_SUPERVISOR_VPN_CONTROL", "value": "true"}),
        ("/application_tag", {"application": 1, "tag_key": "team", "value": "core"}),
        ("/build_environment_variable", {"application": 1, "name": "NPM_TOKEN", "value": "t"}),
        ("/release_tag", {"release": 1, "tag_key": "notes", "value": "first"}),
        ("/release_asset", {"release": 1, "asset_key": "sbom.json",
                            "asset": {"filename": "sbom.json", "content_type": "application/json"}}),
        ("/image_install", {"device": 1, "installs__image": 1, "install_date": START,
                            "status": "Running", "is_provided_by__release": 1}),
        ("/service_install", {"device": 1, "installs__service": 1}),
        ("/device_service_environment_variable", {"service_install": 1, "name": "PORT", "value": "80"}),
        ("/user_public_key", {"user": 1, "title": "laptop", "public_key": "ssh-ed25519 AAAA alice"}),
        ("/api_key", {"key": "0" * 64, "is_of__actor": 1, "name": "ci"}),
        ("/permission", {"name": "resin.device.read?actor eq @__ACTOR_ID"}),
        ("/role", {"name": "default-user"}),
        ("/role__has__permission", {"role": 1, "permission": 1}),
        ("/user_role", {"user": 1, "role": 1}),
        ("/user_permission", {"user": 2, "permission": 1}),
        ("/api_key__has__role", {"api_key": 1, "role": 1}),
        ("/api_key__has__permission", {"api_key": 1, "permission": 1}),
        ("/config", {"key": "signup", "value": "open"}),
        ("/device_history", {"tracks__device": 1, "tracks__actor": 5, "uuid": f"{1:032x}",
                             "belongs_to__application": 1, "is_of__device_type": 1,
                             "end_timestamp": START, "is_ended_by__actor": 1}),
        ("/device_history", {"tracks__device": 1, "tracks__actor": 5, "uuid": f"{1:032x}",
                             "belongs_to__application": 1, "is_of__device_type": 1,
                             "is_created_by__actor": 1, "is_running__release": 1,
                             "is_pinned_on__release": 2, "is_managed_by__service_instance": 1,
                             "should_be_managed_by__release": 3}),
    ):
        await post(path, body, ALL)
    await release(engine, 1, commit="c3", is_created_by__user=1)  # release 4, a draft
