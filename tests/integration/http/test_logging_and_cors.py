"""What operators and browsers see: log lines without secrets, CORS by settings."""

import logging

import httpx
import pytest

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, register


async def test_logs_carry_request_ids_and_never_secrets(
    app_factory: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await app_factory(database_url="memory://", _fake_hasher=True, log_level="INFO")
    logging.getLogger().setLevel(logging.INFO)
    user = await register(client)
    tokens = await login(client, user["username"])
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": "wrong-password-1"}
    )
    await client.get(
        f"/api/v1/auth/me?access_token={tokens['access_token']}", headers=bearer(tokens)
    )
    output = capsys.readouterr()
    logs = output.out + output.err
    assert "request_id" in logs
    assert "user_logged_in" in logs
    for secret in (PASSWORD, "wrong-password-1", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in logs


async def test_cors_allows_only_configured_origins(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://", _fake_hasher=True, cors_origins="https://app.example"
    )
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options(
        "/api/v1/auth/login", headers={"Origin": "https://app.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = await client.options(
        "/api/v1/auth/login", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
    assert isinstance(refused, httpx.Response)


async def test_cors_headers_reach_error_responses_too(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://", _fake_hasher=True, cors_origins="https://app.example"
    )
    too_large = await client.post(
        "/api/v1/auth/register",
        content=b" " * (2 * 1024 * 1024),
        headers={"Origin": "https://app.example", "Content-Type": "application/json"},
    )
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == "https://app.example"
    assert too_large.headers["x-request-id"]
