"""Rate limits, lockout and hardening as clients and operators meet them."""

import asyncio
from typing import Any

import httpx

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, new_identity, register


async def test_login_over_the_limit_is_429_with_rate_limit_headers(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    client = await app_factory(
        **backend, rate_limit_enabled=True, rate_limit_login_per_account="3/60"
    )
    user = await register(client)
    codes = []
    for _ in range(4):
        response = await client.post(
            "/api/v1/auth/login", json={"username": user["username"], "password": "wrong wrong 1"}
        )
        codes.append(response.status_code)
    assert codes == [401, 401, 401, 429]
    assert response.json()["error"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "3"
    assert response.headers["ratelimit-remaining"] == "0"
    assert int(response.headers["ratelimit-reset"]) >= 1
    oauth = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": user["username"], "password": PASSWORD},
    )
    assert oauth.status_code == 429


async def test_registration_and_general_budgets(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=True,
        rate_limit_register_per_client="2/3600",
        rate_limit_requests_per_client="20/60",
    )
    codes = [
        (await client.post("/api/v1/auth/register", json=new_identity())).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    statuses = [(await client.get("/")).status_code for _ in range(20)]
    assert statuses[-1] == 429
    assert (await client.get("/health")).status_code == 200  # probes are never limited


async def test_rate_limits_off_switch(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=False,
        rate_limit_register_per_client="1/3600",
    )
    for _ in range(3):
        assert (await client.post("/api/v1/auth/register", json=new_identity())).status_code == 201


async def test_fifty_parallel_wrong_passwords_lock_the_account(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    client = await app_factory(
        **backend, **ADMIN, lockout_threshold=10, rate_limit_enabled=True,
        rate_limit_login_per_account="1000/60", rate_limit_login_per_client="1000/60",
    )  # fmt: skip
    user = await register(client)
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/login",
                json={"username": user["username"], "password": f"wrong guess {n}"},
            )
            for n in range(50)
        )
    )
    assert {r.status_code for r in responses} == {401}
    assert len({r.json()["message"] for r in responses}) == 1  # locked looks like wrong
    right = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert right.status_code == 401  # locked: even the right password waits

    admin = bearer(await login(client, "admin", ADMIN["first_admin_password"]))
    audit = (
        await client.get(
            "/api/v1/audit-events", headers=admin, params={"target": user["id"], "limit": 100}
        )
    ).json()["items"]
    assert [e["action"] for e in audit].count("account.locked") == 1
    unlocked = await client.post(f"/api/v1/users/{user['id']}/unlock", headers=admin)
    assert unlocked.status_code == 200
    await login(client, user["username"])


async def test_security_headers_on_api_and_docs(memory_client: httpx.AsyncClient) -> None:
    api = await memory_client.get("/health")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["x-frame-options"] == "DENY"
    assert api.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in api.headers["content-security-policy"]
    assert "strict-transport-security" not in api.headers
    docs = await memory_client.get("/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]


async def test_hsts_when_told_and_hosts_when_listed(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        hsts_enabled=True,
        allowed_hosts="id.example.com,testserver",
    )
    assert "max-age=" in (await client.get("/health")).headers["strict-transport-security"]
    wrong_host = await client.get("/health", headers={"Host": "evil.example"})
    assert wrong_host.status_code == 400
    assert wrong_host.json()["error"] == "bad_request"


async def test_forwarded_for_only_from_trusted_proxies(app_factory: AppFactory) -> None:
    admin_settings = {**ADMIN, "database_url": "memory://", "_fake_hasher": True}
    trusting = await app_factory(**admin_settings, trusted_proxies="127.0.0.0/8")
    untrusting = await app_factory(**admin_settings)
    for client, expected in ((trusting, "198.51.100.9"), (untrusting, "127.0.0.1")):
        tokens = await login(client, "admin", ADMIN["first_admin_password"])
        # The ASGI test client's peer is 127.0.0.1; the header claims another client.
        await client.post(
            "/api/v1/auth/login",
            json={"username": "admin", "password": "nope nope 1"},
            headers={"X-Forwarded-For": "198.51.100.9"},
        )
        events = (
            await client.get(
                "/api/v1/audit-events", headers=bearer(tokens), params={"action": "auth.login"}
            )
        ).json()["items"]
        assert events[0]["ip"] == expected
