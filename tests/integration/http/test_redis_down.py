"""The Redis-down policy, row by row (README, "When Redis or Postgres is down"), on an
app whose REDIS_URL points at a port nobody listens on: nothing answers 500, limits
still hold in process, a revoked session stays refused, readiness says what is down,
and the Redis circuit opens so requests stop waiting on it."""

from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, gauge, login, register

# Nothing listens on port 1: every connection is refused at once.
REDIS_DOWN = {"redis_url": "redis://127.0.0.1:1/0", "redis_key_prefix": "hexahub-down:"}


@pytest.fixture(params=["memory", "sqlite"])
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "memory":
        return {"database_url": "memory://", "_fake_hasher": True}
    return {"database_url": request.getfixturevalue("sqlite_url")}


async def redis_down_app(
    app_factory: AppFactory, storage: dict[str, Any], **settings: Any
) -> httpx.AsyncClient:
    return await app_factory(**storage, **REDIS_DOWN, **settings)


async def test_the_general_budget_still_answers_429_in_process(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(
        app_factory, storage, rate_limit_enabled=True, rate_limit_requests_per_client="3/60"
    )
    statuses = [(await client.get("/")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get("/")
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-limit"] == "3"


async def test_the_login_budget_per_account_still_holds(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(
        app_factory, storage, rate_limit_enabled=True, rate_limit_login_per_account="2/60"
    )
    user = await register(client)
    wrong = {"username": user["username"], "password": "not the password 1"}
    statuses = [(await client.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_a_session_logged_out_while_redis_is_down_is_refused(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(app_factory, storage)
    user = await register(client)
    tokens = await login(client, user["username"])
    other = await login(client, user["username"])
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200

    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 401
    assert me.json()["error"] == "invalid_token"
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 401
    # Only that session ended.
    assert (await client.get("/api/v1/auth/me", headers=bearer(other))).status_code == 200


async def test_introspection_reads_a_session_revoked_while_redis_is_down_as_inactive(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(app_factory, storage, **ADMIN)
    admin = bearer(await login(client, "admin", ADMIN["first_admin_password"]))
    user = await register(client)
    tokens = await login(client, user["username"])

    async def introspect() -> dict[str, Any]:
        answer = await client.post(
            "/api/v1/auth/introspect", data={"token": tokens["access_token"]}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert (await introspect())["active"] is True
    await client.post("/api/v1/auth/logout-all", headers=bearer(tokens))
    assert await introspect() == {"active": False}


async def test_no_endpoint_answers_5xx_while_redis_is_down(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(app_factory, storage, rate_limit_enabled=True)
    user = await register(client)
    tokens = await login(client, user["username"])
    auth = bearer(tokens)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    calls = [
        client.get("/api/v1/auth/me", headers=bearer(fresh)),
        client.patch("/api/v1/auth/me", headers=bearer(fresh), json={"full_name": "Ada"}),
        client.get("/api/v1/auth/sessions", headers=bearer(fresh)),
        client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": user["username"], "password": PASSWORD},
        ),
        client.post("/api/v1/auth/password-reset/request", json={"email": user["email"]}),
        client.post("/api/v1/auth/revoke", data={"token": fresh["refresh_token"]}),
        client.post("/api/v1/auth/logout", headers=auth),
        client.get("/.well-known/jwks.json"),
        client.get("/metrics"),
    ]
    for call in calls:
        response = await call
        assert response.status_code < 500, (response.request.url, response.text)


async def test_readiness_reports_redis_down_as_degraded_and_stays_routable(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    """Every replica shares one Redis: were its outage a 503, the load balancer would
    drop all of them at once, although each still serves."""
    client = await redis_down_app(app_factory, storage, circuit_failure_threshold=100)
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert "retry-after" not in ready.headers
    body = ready.json()
    assert body["status"] == "degraded"
    expected = {"database", "cache"} | ({"migrations"} if "sqlite" in str(storage) else set())
    assert set(body["checks"]) == expected
    assert body["checks"]["database"]["status"] == "ok"
    cache = body["checks"]["cache"]
    assert cache["status"] == "unavailable"
    assert cache["circuit"] == "closed"  # one failure is not yet a run of them
    assert "127.0.0.1:1" not in ready.text


async def test_readiness_can_require_redis(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(
        app_factory, storage, circuit_failure_threshold=100, readiness_requires_redis=True
    )
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["cache"]["status"] == "unavailable"


async def test_the_redis_circuit_opens_and_requests_go_on_without_redis(
    app_factory: AppFactory, storage: dict[str, Any]
) -> None:
    client = await redis_down_app(
        app_factory,
        storage,
        rate_limit_enabled=True,
        circuit_failure_threshold=2,
        circuit_reset_seconds=60,
    )
    user = await register(client)  # the general budget and the registration budget
    tokens = await login(client, user["username"])
    ready = await client.get("/health/ready")
    assert ready.json()["checks"]["cache"] == {
        "status": "unavailable",
        "error": "circuit_open",
        "circuit": "open",
    }
    metrics = (await client.get("/metrics")).text
    assert gauge(metrics, "hexahub_circuit_breaker_state", "redis", state="open") == 1
    assert gauge(metrics, "hexahub_circuit_breaker_state", "redis", state="closed") == 0
    assert gauge(metrics, "hexahub_dependency_up", "redis") == 0
    # Open circuit: rate limits, the revocation check, everything goes on in process.
    for _ in range(3):
        assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
