"""balena's v7 model: it builds, its tables apply and migrate on both databases, every
resource and synonym answers through the engine, and every navigation resolves, filters
and expands to exactly the rows its keys name — in both directions."""

from __future__ import annotations

import orjson
import pytest

from fleetyard.db import Database
from fleetyard.db.migrations import applied_versions, migrate
from fleetyard.model.balena import MODEL
from fleetyard.model.ddl import ddl
from fleetyard.model.schema import Navigation, Resource
from tests.model.balena_seed import ALL, engine_for, everything

# Resources spec/model.md §1 and spec/decisions.md name, with their long (fact-type) names.
SYNONYMS = {
    "application_environment_variable": "application__has__env_var_name",
    "application_config_variable": "application__has__config_var_name",
    "application_tag": "application__has__tag_key",
    "build_environment_variable": "application__has__build_var_name",
    "device_environment_variable": "device__has__env_var_name",
    "device_config_variable": "device__has__config_var_name",
    "device_tag": "device__has__tag_key",
    "release_tag": "release__has__tag_key",
    "service": "application__has__service_name",
    "service_label": "application__has__service_name__has__label_name",
    "service_environment_variable": "application__has__service_name__has__name",
    "release_image": "image__is_part_of__release",
    "image_label": "image__is_part_of__release__has__label_name",
    "image_environment_variable": "image__is_part_of__release__has__name",
    "image_install": "device__installs__image",
    "service_install": "device__installs__application__has__service_name",
    "device_service_environment_variable": "device__installs__application__has__service_name__has__name",
    "user_public_key": "user__has__public_key",
    "release_asset": "release__has__asset_key",
    "device_type_alias": "device_type__is_referenced_by__alias",
    "organization_membership": "user__is_member_of__organization",
    "user_application_membership": "user__is_member_of__application",
    "user_role": "user__has__role",
    "user_permission": "user__has__permission",
}
OTHERS = {
    "application", "device", "release", "device_type", "cpu_architecture", "device_family",
    "device_manufacturer", "application_type", "organization", "user", "actor", "api_key", "image",
    "service_instance", "config", "permission", "role", "role__has__permission", "api_key__has__role",
    "api_key__has__permission", "user__has_direct_access_to__application", "device_history",
    "organization_membership_role", "application_membership_role",
}
# Foreign keys without a reverse navigation: §1.7 (none on device_manufacturer) and §7
# (device_history is reached from its rows; only device_type lists it).
NO_REVERSE = {("device_family", "is_manufactured_by__device_manufacturer")} | {
    ("device_history", f.name) for f in MODEL.resources["device_history"].fields
    if f.references and f.name != "is_of__device_type"
}


@pytest.fixture
async def engine(database: Database):
    e = await engine_for(database)
    await everything(e)
    return e


async def d(engine, url):
    return orjson.loads(await engine.get(url, ALL))["d"]


# --- the model itself ---------------------------------------------------------------------


def test_every_resource_and_its_synonym() -> None:
    assert set(MODEL.resources) == set(SYNONYMS) | OTHERS
    for name, long_name in SYNONYMS.items():
        assert MODEL.resource(long_name) is MODEL.resources[name]


def test_every_foreign_key_has_navigations_both_ways() -> None:
    for r in MODEL.resources.values():
        for f in r.fields:
            if f.references is None:
                continue
            assert any(not n.many and n.local == f.name and n.target == f.references
                       for n in r.navigations), (r.name, f.name)
            if (r.name, f.name) in NO_REVERSE:
                continue
            target = MODEL.resources[f.references]
            assert any(n.many and n.target == r.name and n.remote == f.name
                       for n in target.navigations), (r.name, f.name)


@pytest.mark.parametrize("resource, names", [
    ("application", ["owns__device", "owns__release", "organization", "has__organization", "actor",
                     "has__actor", "is_for__device_type", "should_be_running__release", "application_type",
                     "has__application_type", "application_environment_variable",
                     "has__application_environment_variable", "has__env_var_name",
                     "application_config_variable", "has__config_var_name", "application_tag",
                     "has__tag_key", "service", "has__service", "has__service_name",
                     "is_directly_accessible_by__user", "build_environment_variable",
                     "user_application_membership"]),
    ("device", ["belongs_to__application", "is_of__device_type", "actor", "is_running__release",
                "is_pinned_on__release", "should_be_running__release", "should_be_operated_by__release",
                "should_be_managed_by__release", "is_managed_by__service_instance",
                "device_environment_variable", "has__env_var_name", "device_config_variable", "device_tag",
                "image_install", "installs__image", "service_install", "installs__service"]),
    ("release", ["belongs_to__application", "release_tag", "release_asset", "release_image",
                 "contains__image", "should_be_running_on__application", "should_be_running_on__device",
                 "is_running_on__device", "is_pinned_to__device", "should_operate__device",
                 "should_manage__device", "provides__image_install", "is_created_by__user"]),
    ("device_type", ["is_of__cpu_architecture", "supports__cpu_architecture", "belongs_to__device_family",
                     "is_default_for__application", "describes__device", "device", "has__device",
                     "device_type_alias", "is_referenced_by__alias", "device_history"]),
    ("cpu_architecture", ["is_supported_by__device_type", "device_type", "has__device_type"]),
    ("device_family", ["device_type", "has__device_type", "is_manufactured_by__device_manufacturer"]),
    ("organization", ["application", "has__application", "is_of__application", "organization_membership",
                      "has__organization_membership", "includes__user"]),
    ("organization_membership", ["user", "includes__user", "is_member_of__organization", "organization",
                                 "organization_membership_role"]),
    ("user", ["actor", "user_public_key", "user__has__public_key", "has__public_key",
              "organization_membership", "is_member_of__organization", "user_role", "user_permission",
              "has_direct_access_to__application", "user_application_membership"]),
    ("actor", ["is_of__user", "is_of__application", "is_of__device", "api_key", "has__api_key"]),
    ("service", ["application", "service_label", "service_environment_variable", "service_install",
                 "device__installs__service", "is_built_by__image"]),
    ("image", ["is_a_build_of__service", "image_install", "release_image", "is_part_of__release"]),
    ("release_image", ["image", "contains__image", "is_part_of__release", "release", "image_label",
                       "image_environment_variable"]),
    ("image_install", ["device", "installs__image", "image", "is_provided_by__release"]),
    ("service_install", ["device", "installs__service", "service", "device_service_environment_variable",
                         "has__name"]),
    ("device_service_environment_variable", ["service_install", "device__installs__service"]),
    ("application_type", ["is_of__application"]),
    ("service_instance", ["manages__device"]),
    ("user__has_direct_access_to__application", ["user", "has_direct_access_to__application",
                                                 "is_directly_accessible_by__user"]),
])
def test_navigation_names_of_the_spec(resource: str, names: list[str]) -> None:
    r = MODEL.resources[resource]
    missing = [n for n in names if r.navigation(n) is None]
    assert missing == []


def test_secrets_are_not_readable_and_checks_are_declared() -> None:
    hidden = {(r.name, f.name) for r in MODEL.resources.values() for f in r.fields if not f.readable}
    assert hidden == {("user", "password"), ("user", "jwt_secret"), ("api_key", "key")}
    release = MODEL.resources["release"]
    assert release.field("status").choices == ("running", "success", "failed", "error", "cancelled",
                                               "interrupted")
    assert MODEL.resources["application"].field("is_of__class").choices == ("fleet", "block", "app")


def test_the_ddl_covers_every_stored_resource() -> None:
    for dialect in ("sqlite", "postgres"):
        statements = ddl(MODEL, dialect)
        creates = {s.split('"')[1] for s in statements if s.startswith("CREATE TABLE")}
        assert creates == {r.table for r in MODEL.resources.values() if r.query is None}


# --- on the databases ---------------------------------------------------------------------


async def test_the_model_migrates_once(database: Database) -> None:
    assert await migrate(database, MODEL) == [1]
    assert await migrate(database, MODEL) == []
    assert await applied_versions(database) == [1]


async def test_every_resource_and_synonym_answers(engine) -> None:
    for r in MODEL.resources.values():
        for name in (r.name, *r.synonyms):
            rows = await d(engine, f"/{name}")
            assert await d(engine, f"/{name}/$count") == len(rows)
            if r.query is None:
                assert rows, f"the seed leaves '{name}' empty"
                assert list(rows[0]) == [f.name for f in r.fields if f.readable], name  # model order, secrets hidden


def _value(v: object) -> object:
    return v["__id"] if isinstance(v, dict) else v


def _order(r: Resource) -> str:
    """A total order of `r`'s rows (a query resource's ids are all null)."""
    if r.query is None:
        return r.id_field
    return ",".join(f.name for f in r.fields if f.references)


async def _check_navigation(engine, resource: Resource, nav: Navigation) -> list[str]:
    """What is wrong with one navigation on the seeded database (nothing: [])."""
    where = f"{resource.name}.{nav.name}"
    target = MODEL.resources[nav.target]
    # What the keys say: target rows by the value of the navigation's remote field.
    by_value: dict[object, int] = {}
    for row in await d(engine, f"/{target.name}?$select={nav.remote}"):
        value = _value(row[nav.remote])
        by_value[value] = by_value.get(value, 0) + 1
    order = _order(resource)
    # Two reads in one order: an expansion replaces the key field it is named after.
    keys = [_value(row[nav.local])
            for row in await d(engine, f"/{resource.name}?$select={nav.local}&$orderby={order}")]
    rows = await d(engine, f"/{resource.name}?$select={order}&$expand={nav.name}($select={nav.remote})"
                           f"&$orderby={order}")
    problems = []
    linked = 0
    for row, key in zip(rows, keys, strict=True):
        expected = by_value.get(key, 0) if key is not None else 0
        found = [_value(x[nav.remote]) for x in row[nav.name]]
        if found != [key] * expected:
            problems.append(f"{where}: key {key} expands to {found}, expected {expected} rows")
        linked += expected > 0
    path = f"{nav.name}/any(x:x/{nav.remote} ne null)" if nav.many else f"{nav.name}/{nav.remote} ne null"
    counted = await d(engine, f"/{resource.name}/$count?$filter={path}")
    if counted != linked:
        problems.append(f"{where}: $filter={path} counts {counted}, expected {linked}")
    if not linked and resource.query is None and target.query is None:
        problems.append(f"{where}: the seed links no row through it")
    return problems


async def test_every_navigation_expands_and_filters_to_the_rows_its_keys_name(engine) -> None:
    """One test over all navigations (one seeded database per dialect, not hundreds)."""
    problems: list[str] = []
    for r in MODEL.resources.values():
        for nav in r.navigations:
            problems += await _check_navigation(engine, r, nav)
    assert problems == []
