"""The real app, in process, on each storage backend.

`memory`: in-memory adapters everywhere and the fast fake hasher (what a test author
gets by overriding providers); `sqlite`: the embedded default with real argon2;
`postgres`: Postgres and Redis, as a production deployment runs.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dependency_injector import providers
from fastapi import FastAPI

from adapters.memory.password_hasher import FakePasswordHasher
from entrypoints.config.settings import Settings
from entrypoints.container import Container
from entrypoints.http.app import create_app

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"

AppFactory = Callable[..., Awaitable[httpx.AsyncClient]]


# asgi-lifespan's default is 5 s; an app starts in about 0.15 s, but on a loaded CI
# machine a start-up that also makes a signing key can take longer than 5 s.
STARTUP_TIMEOUT = 30


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "data_dir": tmp_path,
        "jwt_secret": TEST_SECRET,
        "log_level": "WARNING",
        # Off unless a test is about limits: suites fire many requests from one address.
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings overrides for one backend; the Postgres one also brings Redis."""
    if request.param == "memory":
        return {"database_url": "memory://", "_fake_hasher": True}
    if request.param == "sqlite":
        return {"database_url": request.getfixturevalue("sqlite_url")}
    # Marked here because these fixtures are requested dynamically, not by name.
    request.node.add_marker(pytest.mark.postgres)
    request.node.add_marker(pytest.mark.redis)
    url = request.getfixturevalue("postgres_clean_url")
    redis_url = request.getfixturevalue("redis_server_url")
    prefix = request.getfixturevalue("redis_prefix")
    return {"database_url": url, "redis_url": redis_url, "redis_key_prefix": prefix}


@pytest.fixture
async def app_factory(tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Build as many apps as a test needs (two instances sharing storage, say)."""
    managers: list[LifespanManager] = []
    clients: list[httpx.AsyncClient] = []

    async def build(**overrides: Any) -> httpx.AsyncClient:
        fake_hasher = overrides.pop("_fake_hasher", False)
        settings = make_settings(tmp_path, **overrides)
        container = Container(settings=providers.Object(settings))
        if fake_hasher:
            container.password_hasher.override(providers.Singleton(FakePasswordHasher))
        app: FastAPI = create_app(settings, container)
        manager = LifespanManager(app, startup_timeout=STARTUP_TIMEOUT)
        await manager.__aenter__()
        managers.append(manager)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()
    for manager in reversed(managers):
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def client(app_factory: AppFactory, backend: dict[str, Any]) -> httpx.AsyncClient:
    return await app_factory(**backend)


@pytest.fixture
async def memory_client(app_factory: AppFactory) -> httpx.AsyncClient:
    """Backend-independent behaviour (envelope, headers, docs) needs one run only."""
    return await app_factory(database_url="memory://", _fake_hasher=True)


ADMIN = {"first_admin_email": "root@example.com", "first_admin_password": "ample orbit kettle 91"}


@pytest.fixture
async def api(app_factory: AppFactory, backend: dict[str, Any]) -> httpx.AsyncClient:
    """An app on each backend with the bootstrap administrator `admin`."""
    return await app_factory(**backend, **ADMIN)


@pytest.fixture
async def openapi(memory_client: httpx.AsyncClient) -> dict[str, Any]:
    """The OpenAPI document as a client fetches it."""
    response = await memory_client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
async def admin(api: httpx.AsyncClient) -> dict[str, str]:
    """Authorization headers of the bootstrap administrator on `api`."""
    response = await api.post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN["first_admin_password"]},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
