"""Several workers on the embedded default (SQLite, no Redis) each cache users and
sessions in memory, and a change made through one is acted on by all of them at once."""

import uuid

import httpx
import pytest

from tests.e2e.conftest import ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
# Each request on a new connection, so the kernel hands them to either worker.
TRIES = 40


def test_a_logout_through_one_worker_is_refused_by_every_worker_at_once(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(WORKERS="2", RATE_LIMIT_ENABLED="false")
    name = f"w{uuid.uuid4().hex[:8]}"
    registered = httpx.post(
        f"{server.url}/api/v1/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    tokens = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": name, "password": PASSWORD}
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    # Both workers now hold the session and the user in memory.
    warm = [httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer) for _ in range(TRIES)]
    assert {r.status_code for r in warm} == {200}

    logout = httpx.post(f"{server.url}/api/v1/auth/logout", headers=bearer)
    assert logout.status_code == 204
    after = [httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer) for _ in range(TRIES)]
    assert {r.status_code for r in after} == {401}
