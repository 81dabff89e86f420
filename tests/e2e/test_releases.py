"""The releases context end to end: two real server processes sharing Postgres and
Redis, driven over real HTTP. The walk-through of the README (a release made ready,
deployed to staging, then production) runs across both, 25 parallel deployments to one
environment split between them give exactly one 201, and what one changes the other
reads at once."""

import asyncio
import secrets
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "ample orbit kettle 91"


def _post(url: str, headers: dict[str, str], body: dict[str, Any], **extra: str) -> httpx.Response:
    return httpx.post(url, json=body, headers=headers | extra)


def test_releases_across_two_instances(
    server_factory: ServerFactory,
    postgres_clean_url: str,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    env = {
        "DATABASE_URL": postgres_clean_url,
        "REDIS_URL": redis_server_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "RATE_LIMIT_ENABLED": "false",
        "FIRST_ADMIN_EMAIL": "root@example.com",
        "FIRST_ADMIN_PASSWORD": PASSWORD,
    }
    a, b = server_factory(**env), server_factory(**env)
    login = httpx.post(
        f"{a.url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}

    for name, extra in (("staging", {}), ("production", {"requires": ["staging"]})):
        created = _post(f"{a.url}/api/v1/environments", admin, {"name": name, **extra})
        assert created.status_code == 201, created.text
    made = _post(
        f"{a.url}/api/v1/releases",
        admin,
        {"name": "billing-api", "version": "2.1.0"},
        **{"Idempotency-Key": "e2e-release"},
    )
    assert made.status_code == 201, made.text
    release_id = made.json()["id"]
    retried = _post(
        f"{b.url}/api/v1/releases",
        admin,
        {"name": "billing-api", "version": "2.1.0"},
        **{"Idempotency-Key": "e2e-release"},
    )
    assert (retried.status_code, retried.json()["id"]) == (201, release_id)

    # B's caches warm (both tiers), then A changes the release: B reads the change.
    for _ in range(2):
        assert (
            httpx.get(f"{b.url}/api/v1/releases/{release_id}", headers=admin).json()["status"]
            == "draft"
        )
    ready = httpx.patch(
        f"{a.url}/api/v1/releases/{release_id}", json={"status": "ready"}, headers=admin
    )
    assert ready.status_code == 200, ready.text
    assert (
        httpx.get(f"{b.url}/api/v1/releases/{release_id}", headers=admin).json()["status"]
        == "ready"
    )

    async def storm() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"{(a, b)[n % 2].url}/api/v1/deployments",
                        json={"release_id": release_id, "environment": "staging"},
                        headers=admin,
                    )
                    for n in range(25)
                )
            )

    responses = asyncio.run(storm())
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 24}
    deployment = next(r.json() for r in responses if r.status_code == 201)

    early = _post(
        f"{b.url}/api/v1/deployments",
        admin,
        {"release_id": release_id, "environment": "production"},
    )
    assert early.status_code == 409, early.text
    for status, server in (("in_progress", b), ("succeeded", a)):
        moved = httpx.patch(
            f"{server.url}/api/v1/deployments/{deployment['id']}",
            json={"status": status},
            headers=admin,
        )
        assert moved.status_code == 200, moved.text
    staging = httpx.get(f"{b.url}/api/v1/environments/staging", headers=admin).json()
    assert staging["current_deployment_id"] == deployment["id"]
    promoted = _post(
        f"{b.url}/api/v1/deployments",
        admin,
        {"release_id": release_id, "environment": "production"},
    )
    assert promoted.status_code == 201, promoted.text
    listed = httpx.get(f"{a.url}/api/v1/deployments", headers=admin).json()["items"]
    assert [d["environment"] for d in listed] == ["production", "staging"]
