"""Postgres goes away and comes back: 503 while down, nothing fails open, and the
service recovers by itself without a restart."""

import asyncio
from urllib.parse import urlsplit

import httpx

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, register
from tests.integration.http.tcp_proxy import TcpProxy


async def test_outage_gives_503_then_recovers_by_itself(
    app_factory: AppFactory, postgres_clean_url: str
) -> None:
    real = urlsplit(postgres_clean_url.replace("postgresql+asyncpg", "postgresql"))
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or 5432)
    await proxy.start()
    proxied = postgres_clean_url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")
    # The circuit may open during the outage; a short reset keeps the recovery quick.
    client = await app_factory(
        database_url=proxied, database_connect_timeout_seconds=1, circuit_reset_seconds=1
    )
    user = await register(client)
    tokens = await login(client, user["username"])

    await proxy.cut()
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 503  # never 200: a token is not accepted unchecked
    assert me.json()["error"] == "service_unavailable"
    assert int(me.headers["retry-after"]) > 0
    denied = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert denied.status_code == 503
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 503

    await proxy.start()  # same port: the database is back
    for _ in range(50):
        if (await client.get("/health/ready")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await login(client, user["username"]))["access_token"]
    await proxy.cut()


async def test_unreachable_database_at_start_still_serves_health(
    app_factory: AppFactory,
) -> None:
    client = await app_factory(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none",
        database_connect_timeout_seconds=0.5,
    )
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 503
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "x@example.com", "username": "xyz", "password": PASSWORD},
    )
    assert response.status_code == 503
    assert isinstance(response, httpx.Response)
