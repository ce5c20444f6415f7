"""A key revoked or expired through /v7/api_key is refused from the next request on, even
though credentials are remembered for a few seconds (the SDKs revoke a key and check it at
once, spec/clients.md §8.2 step 11). On both databases."""

from __future__ import annotations

from fleetyard.auth import principals
from tests.auth.conftest import World, d, new_key


def remember_credentials() -> None:
    """Undo the suite's no-cache setting for the server's live caches: the point here."""
    for credentials in list(principals._LIVE):
        credentials.cache_seconds = 60.0


async def test_a_revoked_key_is_refused_at_once(client, engine, world: World):
    remember_credentials()
    key = await new_key(engine, world.alice)
    whoami = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/actor/v1/whoami", headers=whoami)).status_code == 200  # now remembered
    (row,) = await d(engine, f"/api_key?$select=id&$filter=is_of__actor eq {world.alice.actor}")
    r = await client.delete(f"/v7/api_key({row['id']})", headers=world.alice.headers)
    assert r.status_code == 200, r.text
    assert (await client.get("/actor/v1/whoami", headers=whoami)).status_code == 401


async def test_a_key_expired_by_a_patch_is_refused_at_once(client, engine, world: World):
    remember_credentials()
    key = await new_key(engine, world.alice)
    whoami = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/actor/v1/whoami", headers=whoami)).status_code == 200
    (row,) = await d(engine, f"/api_key?$select=id&$filter=is_of__actor eq {world.alice.actor}")
    r = await client.patch(f"/v7/api_key({row['id']})", headers=world.alice.headers,
                           json={"expiry_date": "2000-01-01T00:00:00.000Z"})
    assert r.status_code == 200, r.text
    assert (await client.get("/actor/v1/whoami", headers=whoami)).status_code == 401
