"""What every part of the service shares: the time, ids, the request context, the
secrets, the Redis client (when configured) and its circuit breaker."""

from collections.abc import AsyncIterator
from typing import Any

from dependency_injector import containers, providers

from adapters.context.request_context import ContextVarRequestContext
from adapters.crypto.secret_box import FernetSecretBox
from adapters.metrics.redis import instrument_redis
from adapters.metrics.resilience import record_breaker_state
from adapters.redis.client import create_redis_client
from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.resilience.circuit_breaker import CircuitBreaker
from adapters.system.clock import SystemClock
from adapters.system.id_generator import Uuid7IdGenerator
from application.errors import CacheUnavailableError, ServiceUnavailableError
from entrypoints.config.secrets import resolve_encryption_keys, resolve_jwt_secret
from entrypoints.config.settings import Settings
from entrypoints.http.pagination import CursorCodec
from entrypoints.tracing import trace_redis


def redis_or_memory(settings: Settings) -> str:
    """Which kind of shared state: Redis when configured, else in process."""
    return "redis" if settings.redis_url else "memory"


def redis_feed(core: Any, settings: Any, topic: str) -> providers.Singleton[RedisInvalidationBus]:
    """A pub/sub feed on the channel `<REDIS_KEY_PREFIX><topic>`, through the Redis
    breaker: `core` and `settings` are a sub-container's dependencies on them."""
    return providers.Singleton(
        RedisInvalidationBus,
        core.redis_client,
        channel=providers.Callable(lambda s: f"{s.redis_key_prefix}{topic}", settings),
        breaker=core.redis_breaker,
    )


def breaker(
    name: str, unavailable: type[ServiceUnavailableError], settings: Settings
) -> CircuitBreaker:
    """One breaker per dependency, shared by every adapter that calls it."""
    made = CircuitBreaker(
        name,
        unavailable=unavailable,
        failure_threshold=settings.circuit_failure_threshold,
        reset_timeout=settings.circuit_reset_seconds,
    )
    made.subscribe(record_breaker_state)
    return made


async def _redis(settings: Settings) -> AsyncIterator[Any]:
    if settings.redis_url is None:
        yield None
        return
    client = create_redis_client(settings.redis_url.get_secret_value())
    instrument_redis(client)  # command latency for Prometheus
    trace_redis(client)  # a span per command while tracing is on; wraps the line above
    try:
        yield client
    finally:
        await client.aclose()


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7IdGenerator)
    request_context = providers.Singleton(ContextVarRequestContext)
    jwt_secret = providers.Singleton(resolve_jwt_secret, settings)
    secret_box = providers.Singleton(
        FernetSecretBox, providers.Callable(resolve_encryption_keys, settings)
    )
    redis_client = providers.Resource(_redis, settings)
    redis_breaker = providers.Singleton(
        breaker, "redis", providers.Object(CacheUnavailableError), settings
    )
    # Pagination cursors are signed, so a client cannot forge one.
    cursor_codec = providers.Singleton(
        CursorCodec, providers.Callable(lambda secret: secret.encode(), jwt_secret)
    )
