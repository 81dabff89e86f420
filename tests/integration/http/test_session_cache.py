"""The login session's state is cached beside the user (no database read for a warm
request), and every instance refuses a session at once when it ends elsewhere: a logout,
logging out everywhere, or a refresh token presented twice.

Two instances share Postgres and Redis; instance B's caches are warm, in both tiers,
when instance A ends the session.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import bearer, local_hits, login, register

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

Instances = tuple[httpx.AsyncClient, httpx.AsyncClient]
ME = "/api/v1/auth/me"


@pytest.fixture
async def instances(
    app_factory: AppFactory, postgres_clean_url: str, redis_server_url: str, redis_prefix: str
) -> Instances:
    # Both on one database and one Redis; a second use of a refresh token is theft at
    # once, not a benign race.
    shared = dict(
        database_url=postgres_clean_url,
        redis_url=redis_server_url,
        redis_key_prefix=redis_prefix,
        _fake_hasher=True,
        refresh_reuse_grace_seconds=0,
    )
    return await app_factory(**shared), await app_factory(**shared)


async def test_a_warm_request_finds_its_session_in_the_in_process_tier(
    instances: Instances,
) -> None:
    a, b = instances
    user = await register(a)
    headers = bearer(await login(a, user["username"]))
    assert (await b.get(ME, headers=headers)).status_code == 200
    before = await local_hits(b, "session")
    assert (await b.get(ME, headers=headers)).status_code == 200
    assert await local_hits(b, "session") == before + 1


End = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[None]]


async def log_out(a: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    response = await a.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert response.status_code == 204, response.text


async def log_out_everywhere(a: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    response = await a.post("/api/v1/auth/logout-all", headers=bearer(tokens))
    assert response.status_code == 204, response.text


async def reuse_refresh_token(a: httpx.AsyncClient, tokens: dict[str, Any]) -> None:
    body = {"refresh_token": tokens["refresh_token"]}
    assert (await a.post("/api/v1/auth/refresh", json=body)).status_code == 200
    assert (await a.post("/api/v1/auth/refresh", json=body)).status_code == 401


@pytest.mark.parametrize(
    "end", [log_out, log_out_everywhere, reuse_refresh_token], ids=["logout", "all", "reuse"]
)
async def test_a_session_ended_on_one_instance_is_refused_by_the_warm_other(
    instances: Instances, end: End
) -> None:
    a, b = instances
    user = await register(a)
    tokens = await login(a, user["username"])
    for client in (a, b, b):  # both instances warm, B from its in-process tier
        assert (await client.get(ME, headers=bearer(tokens))).status_code == 200
    await end(a, tokens)
    assert (await b.get(ME, headers=bearer(tokens))).status_code == 401
    assert (await a.get(ME, headers=bearer(tokens))).status_code == 401
