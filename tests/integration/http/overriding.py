"""An app built as `app_factory` builds one, with providers overridden before the app
exists: singletons (the throttle, say) resolve their dependencies once, so an override
made after the first request would come too late."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from dependency_injector import providers

from adapters.memory.password_hasher import FakePasswordHasher
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.conftest import STARTUP_TIMEOUT, make_settings


@asynccontextmanager
async def serving(
    tmp_path: Path, override: Callable[[Container], None], **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """In-memory storage and the fake hasher, like `memory_client`, plus `override`."""
    config = make_settings(tmp_path, database_url="memory://", **settings)
    container = Container(settings=providers.Object(config))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    override(container)
    async with LifespanManager(
        create_app(config, container), startup_timeout=STARTUP_TIMEOUT
    ) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
