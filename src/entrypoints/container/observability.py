"""Gauges sampled on a timer, readiness checks, and what `GET /` says of the service."""

from collections.abc import AsyncIterator
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics.sampler import MetricsSampler
from adapters.resilience.circuit_breaker import CircuitBreaker
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised
from entrypoints.http import health
from entrypoints.http.health import Check

VERSION = "0.1.0"


def _readiness_checks(
    settings: Settings,
    engine: AsyncEngine | None,
    database: CircuitBreaker,
    redis: CircuitBreaker,
    revocations: Any,
) -> dict[str, Check]:
    """What `/health/ready` checks: the database and its schema (not with `memory://`),
    and the revocation store, which is Redis when configured and required only with
    READINESS_REQUIRES_REDIS."""
    sql = engine is not None
    checks = {
        "database": Check(
            probe=health.database_probe(engine, database),
            breaker=database if sql else None,
            dependency="database" if sql else None,
        )
    }
    if engine is not None:
        checks["migrations"] = Check(probe=health.migrations_probe(engine, database))
    with_redis = settings.redis_url is not None
    checks["cache"] = Check(
        probe=revocations.ping,
        breaker=redis if with_redis else None,
        dependency="redis" if with_redis else None,
        required=settings.readiness_requires_redis or not with_redis,
    )
    return checks


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
    health_checks = providers.Callable(
        _readiness_checks,
        settings,
        persistence.engine,
        persistence.database_breaker,
        core.redis_breaker,
        security.revocation_store,
    )
