"""Storage: the engine (or the in-memory store) and its transactions."""

from collections.abc import AsyncIterator
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.metrics.database import instrument_engine
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailableError
from entrypoints.config.settings import Settings
from entrypoints.container.core import breaker
from entrypoints.tracing import trace_engine

MEMORY_URL = "memory://"


def storage_kind(settings: Settings) -> str:
    return "memory" if settings.database_url == MEMORY_URL else "sql"


async def _engine(settings: Settings) -> AsyncIterator[AsyncEngine | None]:
    if storage_kind(settings) == "memory":
        yield None
        return
    engine = create_engine(
        settings.effective_database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout_ms=int(settings.database_statement_timeout_seconds * 1000),
    )
    trace_engine(engine)  # a span per statement while tracing is on
    instrument_engine(engine)  # statement latency for Prometheus
    try:
        yield engine
    finally:
        await engine.dispose()


def _transactions(
    settings: Any,
    session_factory: Any,
    secret_box: Any,
    breaker: Any,
    memory_store: Any,
    *,
    reads_only: bool,
) -> providers.Selector[Any]:
    """A storage transaction per call, on the configured storage (providers in, one
    provider out: the writing and the read-only kinds)."""
    return providers.Selector(
        providers.Callable(storage_kind, settings),
        sql=providers.Factory(
            SqlAlchemyUnitOfWork,
            session_factory,
            secret_box=secret_box,
            breaker=breaker,
            reads_only=reads_only,
        ),
        memory=providers.Factory(InMemoryUnitOfWork, memory_store),
    )


class Persistence(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    engine = providers.Resource(_engine, settings)
    database_breaker = providers.Singleton(
        breaker, "database", providers.Object(StorageUnavailableError), settings
    )
    memory_store = providers.Singleton(InMemoryStore)
    session_factory = providers.Singleton(create_session_factory, engine)
    transactions = _transactions(
        settings, session_factory, core.secret_box, database_breaker, memory_store, reads_only=False
    )
    # Transactions that only read: the per-request authentication path.
    read_session_factory = providers.Singleton(create_session_factory, engine, reads_only=True)
    reads = _transactions(
        settings,
        read_session_factory,
        core.secret_box,
        database_breaker,
        memory_store,
        reads_only=True,
    )
