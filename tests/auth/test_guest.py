"""Requests without credentials: the guest role of spec/decisions.md ("Anonymous callers")
reads the device-type catalogue and public fleets with their releases; everything else is a
401. On both databases."""

from __future__ import annotations

import pytest

from tests.auth.conftest import World


@pytest.mark.parametrize("url", [
    "/v7/device_type?$select=slug",
    "/v7/device_type(slug='raspberrypi5')",  # as the seed page reads it, without a token
    "/v7/device_type_alias?$top=1",
    "/v7/cpu_architecture",
    "/v7/device_family?$top=1",
    "/v7/device_manufacturer?$top=1",
    "/v7/application_type",
])
async def test_guest_reads_the_catalogue(client, world: World, url: str):
    r = await client.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["d"], url


async def test_guest_reads_public_fleets_and_their_releases_only(client, world: World):
    fleets = (await client.get("/v7/application?$select=id,is_public")).json()["d"]
    assert fleets and all(f["is_public"] for f in fleets)
    assert world.alice.fleet not in {f["id"] for f in fleets}
    assert (await client.get(f"/v7/application({world.alice.fleet})")).json() == {"d": []}
    releases = (await client.get("/v7/release?$select=id")).json()["d"]
    assert {"id": world.public_release} in releases
    assert {"id": world.alice.release} not in releases
    r = await client.get(f"/v7/application({world.public_fleet})?$expand=owns__device,owns__release($select=id)")
    [fleet] = r.json()["d"]
    assert fleet["owns__device"] == [] and fleet["owns__release"] == [{"id": world.public_release}]
    # a catalogue read that expands into devices sees none
    types = (await client.get("/v7/device_type?$expand=describes__device($select=id)")).json()["d"]
    assert all(t["describes__device"] == [] for t in types)


@pytest.mark.parametrize("url", [
    "/v7/device", "/v7/device(1)", "/v7/device/$count", "/v7/user", "/v7/organization",
    "/v7/api_key", "/v7/device_tag", "/v7/application_environment_variable", "/v7/actor",
    "/v7/user__has_direct_access_to__application", "/v7/no_such_resource", "/v6/device",
])
async def test_guest_gets_401_for_everything_else(client, world: World, url: str):
    r = await client.get(url)
    assert r.status_code == 401, (url, r.text)


async def test_guest_writes_nothing(client, engine, world: World):
    for method, url, body in (
        ("POST", "/v7/application", {"app_name": "x", "organization": world.alice.organization}),
        ("PATCH", f"/v7/application({world.public_fleet})", {"app_name": "x"}),
        ("DELETE", f"/v7/release({world.public_release})", None),
        ("PATCH", "/v7/device_type?$filter=1 eq 1", {"name": "x"}),
    ):
        r = await client.request(method, url, json=body)
        assert r.status_code == 401, (method, url, r.text)
