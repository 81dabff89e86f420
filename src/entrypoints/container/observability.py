"""Gauges sampled on a timer, readiness checks, and what `GET /` says of the service."""

from collections.abc import AsyncIterator, Awaitable, Callable

from dependency_injector import containers, providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics.sampler import MetricsSampler
from adapters.resilience.circuit_breaker import CircuitBreaker
from adapters.sqlalchemy.errors import translating
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised
from entrypoints.container.persistence import storage_kind

VERSION = "0.1.0"


def _database_probe(
    engine: AsyncEngine | None, breaker: CircuitBreaker
) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        if engine is None:
            return
        # Through the breaker, so readiness polls alone can close it again.
        async with breaker.guard():
            with translating():
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

    return probe


def _health_breakers(
    settings: Settings, database: CircuitBreaker, redis: CircuitBreaker
) -> dict[str, CircuitBreaker | None]:
    """The breaker behind each readiness check, None where no breaker guards it."""
    return {
        "database": database if storage_kind(settings) == "sql" else None,
        "cache": redis if settings.redis_url else None,
    }


async def _sampling(sampler: MetricsSampler) -> AsyncIterator[object]:
    await sampler.sample()  # gauges are set before the first scrape
    async with supervised("metrics-sampler", sampler.run_forever) as task:
        yield task


class Observability(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    identity = providers.DependenciesContainer()

    metrics_sampler = providers.Singleton(
        MetricsSampler,
        count_sessions=identity.count_active_sessions.provided.execute,
        engine=persistence.engine,
    )
    sampling = Loop(_sampling, metrics_sampler)
    service_info = providers.Callable(
        lambda s: {"name": s.public_name, "version": VERSION, "environment": s.environment.value},
        settings,
    )
    health_probes = providers.Callable(
        lambda engine, breaker, store: {
            "database": _database_probe(engine, breaker),
            "cache": store.ping,
        },
        persistence.engine,
        persistence.database_breaker,
        security.revocation_store,
    )
    health_breakers = providers.Callable(
        _health_breakers, settings, persistence.database_breaker, core.redis_breaker
    )
