"""The real server process over real HTTP, as a client meets it."""

import secrets
import uuid

import httpx
import pytest

from tests.e2e.conftest import ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def _journey_start(url: str) -> tuple[dict, dict]:
    name = f"e2e{uuid.uuid4().hex[:8]}"
    registered = httpx.post(
        f"{url}/api/v1/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    tokens = httpx.post(f"{url}/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return registered.json(), tokens.json()


def _me(url: str, access_token: str) -> httpx.Response:
    return httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"})


def test_register_login_me_refresh_logout(server_factory: ServerFactory) -> None:
    server = server_factory()
    user, tokens = _journey_start(server.url)
    me = _me(server.url, tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert me.headers["x-request-id"]

    refreshed = httpx.post(
        f"{server.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert _me(server.url, new["access_token"]).status_code == 200

    logout = httpx.post(
        f"{server.url}/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {new['access_token']}"},
    )
    assert logout.status_code == 204
    assert _me(server.url, new["access_token"]).status_code == 401
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_restart_keeps_users_sessions_and_tokens(server_factory: ServerFactory) -> None:
    server = server_factory()
    user, tokens = _journey_start(server.url)
    server.stop()
    server.start()  # same DATA_DIR: same SQLite file and same generated secret
    assert _me(server.url, tokens["access_token"]).status_code == 200
    refreshed = httpx.post(
        f"{server.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    login = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert login.status_code == 200


def test_two_instances_on_postgres_and_redis_share_logout(
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
    }
    first, second = server_factory(**env), server_factory(**env)
    _, tokens = _journey_start(first.url)
    assert _me(second.url, tokens["access_token"]).status_code == 200
    logout = httpx.post(
        f"{first.url}/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert logout.status_code == 204
    assert _me(second.url, tokens["access_token"]).status_code == 401
    refreshed = httpx.post(
        f"{second.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
