"""A cached read never serves a user after deactivation, deletion, a role change or a
password change: on one instance, and across two instances sharing Postgres and Redis
(the second instance's caches are warm, in both tiers, when the first one writes).

Each test warms the caches by asking twice (the first answer fills Redis and the
in-process tier, the second is served from them), writes on instance A, and asks
instance B at once.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, local_hits, login, register

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

Instances = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture
async def instances(
    app_factory: AppFactory, postgres_clean_url: str, redis_server_url: str, redis_prefix: str
) -> Instances:
    shared = {
        "database_url": postgres_clean_url,
        "redis_url": redis_server_url,
        "redis_key_prefix": redis_prefix,
        "_fake_hasher": True,
    }
    first = await app_factory(**shared, **ADMIN)
    second = await app_factory(**shared)
    return first, second


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await login(client, "admin", ADMIN["first_admin_password"]))


async def warm(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(2):
        response = await client.get("/api/v1/auth/me", headers=headers)
        assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_second_read_is_served_from_the_in_process_tier(instances: Instances) -> None:
    a, b = instances
    user = await register(a)
    headers = bearer(await login(b, user["username"]))
    # The registration's and the login's invalidations reach `b` asynchronously and may
    # evict what a read just warmed: once they have, a read warms for good.
    for _ in range(10):
        await b.get("/api/v1/auth/me", headers=headers)
        before = await local_hits(b, "user")
        assert (await b.get("/api/v1/auth/me", headers=headers)).status_code == 200
        if await local_hits(b, "user") == before + 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no read was served from the in-process tier")


async def test_a_login_shows_at_once_on_both_instances_and_a_later_change_still_binds(
    instances: Instances,
) -> None:
    # The instance that signs the user in amends its warm copy; the other drops its own.
    a, b = instances
    user = await register(a)
    on_a = bearer(await login(a, user["username"]))
    on_b = bearer(await login(b, user["username"]))
    first = (await warm(a, on_a))["last_login_at"]
    assert (await warm(b, on_b))["last_login_at"] == first

    await asyncio.sleep(0.01)  # a later login time than the warm copies show
    await login(a, user["username"])

    shown = [(await c.get("/api/v1/auth/me", headers=h)).json() for c, h in ((a, on_a), (b, on_b))]
    assert shown[0]["last_login_at"] == shown[1]["last_login_at"] > first
    await deactivate(a, await admin_headers(a), user)
    for client, headers in ((a, on_a), (b, on_b)):
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


Change = Callable[[httpx.AsyncClient, dict[str, str], dict[str, Any]], Awaitable[None]]


async def deactivate(a: httpx.AsyncClient, admin: dict[str, str], user: dict[str, Any]) -> None:
    response = await a.patch(
        f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin
    )
    assert response.status_code == 200, response.text


async def delete(a: httpx.AsyncClient, admin: dict[str, str], user: dict[str, Any]) -> None:
    response = await a.delete(f"/api/v1/users/{user['id']}", headers=admin)
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("change", [deactivate, delete], ids=["deactivation", "deletion"])
async def test_a_warm_instance_refuses_the_user_at_once(
    instances: Instances, change: Change
) -> None:
    a, b = instances
    user = await register(a)
    headers = bearer(await login(b, user["username"]))
    await warm(b, headers)
    await change(a, await admin_headers(a), user)
    response = await b.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401, response.text


async def test_a_password_change_elsewhere_ends_the_other_sessions_at_once(
    instances: Instances,
) -> None:
    a, b = instances
    user = await register(a)
    on_b = bearer(await login(b, user["username"]))
    on_a = bearer(await login(a, user["username"]))
    await warm(b, on_b)
    response = await a.post(
        "/api/v1/auth/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=on_a,
    )
    assert response.status_code == 204, response.text
    assert (await b.get("/api/v1/auth/me", headers=on_b)).status_code == 401
    # The session that changed it goes on, on either instance, and sees the new state.
    assert (await b.get("/api/v1/auth/me", headers=on_a)).status_code == 200


async def test_a_role_assignment_on_one_instance_is_enforced_by_the_other(
    instances: Instances,
) -> None:
    a, b = instances
    user = await register(a)
    headers = bearer(await login(b, user["username"]))
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 403
    assert (await warm(b, headers))["roles"] == ["user"]
    admin = await admin_headers(a)

    granted = await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user", "auditor"]}, headers=admin
    )
    assert granted.status_code == 200, granted.text
    assert sorted((await b.get("/api/v1/auth/me", headers=headers)).json()["roles"]) == [
        "auditor",
        "user",
    ]
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 200

    await warm(b, headers)
    revoked = await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user"]}, headers=admin
    )
    assert revoked.status_code == 200, revoked.text
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 403


async def test_a_role_losing_a_permission_on_one_instance_binds_the_other(
    instances: Instances,
) -> None:
    a, b = instances
    admin = await admin_headers(a)
    created = await a.post(
        "/api/v1/roles", json={"name": "readers", "permissions": ["audit:read"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    user = await register(a)
    assigned = await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user", "readers"]}, headers=admin
    )
    assert assigned.status_code == 200, assigned.text
    headers = bearer(await login(b, user["username"]))
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 200
    await warm(b, headers)

    changed = await a.patch("/api/v1/roles/readers", json={"permissions": []}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 403


async def test_a_deleted_role_is_gone_from_the_users_of_the_other_instance(
    instances: Instances,
) -> None:
    a, b = instances
    admin = await admin_headers(a)
    await a.post(
        "/api/v1/roles", json={"name": "temps", "permissions": ["audit:read"]}, headers=admin
    )
    user = await register(a)
    await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user", "temps"]}, headers=admin
    )
    headers = bearer(await login(b, user["username"]))
    assert "temps" in (await warm(b, headers))["roles"]

    deleted = await a.delete("/api/v1/roles/temps", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert (await b.get("/api/v1/auth/me", headers=headers)).json()["roles"] == ["user"]
    assert (await b.get("/api/v1/audit-events", headers=headers)).status_code == 403


async def issue_key(client: httpx.AsyncClient, user: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A key of `user`'s own (no scopes: it acts as the user on `/auth/me`)."""
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "ci", "scopes": [], "current_password": PASSWORD},
        headers=bearer(await login(client, user["username"])),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return body["id"], {"X-API-Key": body["key"]}


async def warm_key(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    """Use the key until a use is served from this instance's in-process tier (its first
    use is recorded, which drops the cached key everywhere, asynchronously)."""
    for _ in range(10):
        before = await local_hits(client, "api-key")
        assert (await client.get("/api/v1/auth/me", headers=key)).status_code == 200
        if await local_hits(client, "api-key") == before + 1:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no use of the key was served from the in-process tier")


async def revoke_key(
    a: httpx.AsyncClient, admin: dict[str, str], user: dict[str, Any], key_id: str
) -> None:
    response = await a.delete(f"/api/v1/api-keys/{key_id}", headers=admin)
    assert response.status_code == 204, response.text


async def deactivate_owner(
    a: httpx.AsyncClient, admin: dict[str, str], user: dict[str, Any], key_id: str
) -> None:
    await deactivate(a, admin, user)


@pytest.mark.parametrize("change", [revoke_key, deactivate_owner], ids=["revoked", "deactivated"])
async def test_a_key_warm_on_one_instance_is_refused_after_a_change_on_the_other(
    instances: Instances,
    change: Callable[..., Awaitable[None]],
) -> None:
    a, b = instances
    user = await register(a)
    key_id, key = await issue_key(a, user)
    await warm_key(b, key)
    await change(a, await admin_headers(a), user, key_id)
    response = await b.get("/api/v1/auth/me", headers=key)
    assert response.status_code == 401, response.text


async def test_a_key_rotation_on_one_instance_reaches_the_others_jwks_at_once(
    app_factory: AppFactory, postgres_clean_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    shared = {
        "database_url": postgres_clean_url,
        "redis_url": redis_server_url,
        "redis_key_prefix": redis_prefix,
        "jwt_algorithm": "EdDSA",
        # The periodic refresh is far away: only the broadcast can explain a reload.
        "key_refresh_interval_seconds": 60,
        "_fake_hasher": True,
    }
    a = await app_factory(**shared, **ADMIN)
    b = await app_factory(**shared)
    before = {k["kid"] for k in (await b.get("/.well-known/jwks.json")).json()["keys"]}
    rotated = await a.post("/api/v1/keys/rotate", headers=await admin_headers(a))
    assert rotated.status_code in (200, 201), rotated.text
    for _ in range(100):
        after = {k["kid"] for k in (await b.get("/.well-known/jwks.json")).json()["keys"]}
        if after - before:
            break
        await asyncio.sleep(0.01)
    assert len(after - before) == 1


async def api_key_of(
    client: httpx.AsyncClient, username: str, scopes: tuple[str, ...] = ()
) -> dict[str, str]:
    """A fresh API key of `username` (signed in just now: no password needed)."""
    headers = bearer(await login(client, username))
    body = {"name": "ci", "scopes": list(scopes)}
    created = await client.post("/api/v1/api-keys", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["key"]}


@pytest.mark.parametrize("change", [deactivate, delete], ids=["deactivation", "deletion"])
async def test_an_api_key_of_a_user_changed_elsewhere_is_refused_by_the_warm_other(
    instances: Instances, change: Change
) -> None:
    # API keys read their owner and the role table through the same cache.
    a, b = instances
    user = await register(a)
    key = await api_key_of(a, user["username"])
    await warm(b, key)
    await change(a, await admin_headers(a), user)
    response = await b.get("/api/v1/auth/me", headers=key)
    assert response.status_code == 401, response.text


async def test_an_api_key_loses_a_role_taken_away_on_the_other_instance(
    instances: Instances,
) -> None:
    a, b = instances
    admin = await admin_headers(a)
    user = await register(a)
    assigned = await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user", "auditor"]}, headers=admin
    )
    assert assigned.status_code == 200, assigned.text
    key = await api_key_of(a, user["username"], scopes=("audit:read",))
    assert (await b.get("/api/v1/audit-events", headers=key)).status_code == 200
    await warm(b, key)

    taken = await a.put(
        f"/api/v1/users/{user['id']}/roles", json={"roles": ["user"]}, headers=admin
    )
    assert taken.status_code == 200, taken.text
    assert (await b.get("/api/v1/audit-events", headers=key)).status_code == 403
