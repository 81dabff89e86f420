"""Responses made by the edge itself (host refusals, CORS preflights, 413s, 500s) carry
the same security headers and request id as any route's."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from entrypoints.container import Container
from tests.integration.http.conftest import AppFactory
from tests.integration.http.overriding import serving

ORIGIN = "https://app.example"
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
    "permissions-policy",
)


def assert_edge_headers(response: httpx.Response) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, (response.status_code, name)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]


@pytest.fixture
async def api(app_factory: AppFactory) -> httpx.AsyncClient:
    settings: dict[str, Any] = {
        "database_url": "memory://",
        "_fake_hasher": True,
        "cors_origins": ORIGIN,
        "allowed_hosts": "testserver",
    }
    return await app_factory(**settings)


async def test_a_refused_host_carries_the_security_headers(api: httpx.AsyncClient) -> None:
    response = await api.get("/health", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert_edge_headers(response)
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_a_preflight_carries_the_security_headers(api: httpx.AsyncClient) -> None:
    response = await api.options(
        "/api/v1/auth/me",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert_edge_headers(response)


async def test_a_preflight_for_an_api_key_is_allowed(api: httpx.AsyncClient) -> None:
    response = await api.options(
        "/api/v1/users",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert response.status_code == 200, response.text
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert "x-api-key" in allowed


async def test_browsers_may_read_the_rate_limit_headers(api: httpx.AsyncClient) -> None:
    response = await api.get("/health", headers={"Origin": ORIGIN})
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed


async def test_a_413_carries_cors_and_security_headers(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/auth/register",
        content=b" " * (2 * 1024 * 1024),
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert_edge_headers(response)


class ExplodingUseCase:
    async def execute(self, *_: object, **__: object) -> None:
        raise RuntimeError("an unexpected failure")


async def test_a_500_carries_cors_and_security_headers(tmp_path: Path) -> None:
    def explode(container: Container) -> None:
        container.register_user.override(providers.Object(ExplodingUseCase()))

    async with serving(tmp_path, explode, cors_origins=ORIGIN, allowed_hosts="testserver") as api:
        response = await api.post(
            "/api/v1/auth/register",
            json={"email": "a@example.com", "username": "abc", "password": "x" * 12},
            headers={"Origin": ORIGIN},
        )
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert_edge_headers(response)
