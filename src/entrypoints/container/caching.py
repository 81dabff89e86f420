"""The user and role cache in front of every authenticated request."""

from collections.abc import AsyncIterator

from dependency_injector import containers, providers

from adapters.memory.cache import InProcessCache, NoCache
from adapters.metrics.cache import count_lookup
from adapters.redis.cache import RedisCache
from adapters.tiered_cache import TieredCache
from application.caching.user_cache import UserCache
from application.ports.cache import Cache
from entrypoints.config.settings import Settings
from entrypoints.container.core import redis_feed
from entrypoints.container.lifecycle import Loop, supervised
from entrypoints.container.persistence import storage_kind


def cache_kind(settings: Settings) -> str:
    """`tiered` (Redis and each process's memory), `local` (memory alone) or `off`."""
    if not settings.cache_enabled:
        return "off"
    if settings.redis_url:
        return "tiered"
    # Without Redis, processes cannot tell each other what changed, so the in-process
    # cache is kept for the embedded, single-process set-ups only (memory, or SQLite
    # with one worker). Postgres without Redis usually means several replicas: no cache
    # rather than one that serves a demoted user from a sibling's memory.
    single_process = settings.workers == 1 and (
        storage_kind(settings) == "memory" or settings.effective_database_url.startswith("sqlite")
    )
    return "local" if single_process else "off"


async def _listening(cache: Cache) -> AsyncIterator[object]:
    """Other instances' writes reach this one's in-process tier through the feed; at
    the end, invalidations Redis could not take yet get one last chance."""
    tiered = cache if isinstance(cache, TieredCache) else None
    async with supervised(
        "cache-invalidations",
        tiered.listen if tiered else None,
        on_stop=tiered.flush if tiered else None,
    ) as task:
        yield task


class Caching(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()

    cache = providers.Selector(
        providers.Callable(cache_kind, settings),
        tiered=providers.Singleton(
            TieredCache,
            providers.Singleton(
                InProcessCache,
                max_entries=settings.provided.cache_local_max_entries,
                ttl_seconds=settings.provided.cache_local_ttl_seconds,
            ),
            providers.Singleton(
                RedisCache,
                core.redis_client,
                prefix=settings.provided.redis_key_prefix,
                breaker=core.redis_breaker,
            ),
            redis_feed(core, settings, "cache:invalidate"),
            on_lookup=providers.Object(count_lookup),
        ),
        local=providers.Singleton(
            TieredCache,
            providers.Singleton(
                InProcessCache,
                max_entries=settings.provided.cache_local_max_entries,
                ttl_seconds=settings.provided.cache_ttl_seconds,
            ),
            on_lookup=providers.Object(count_lookup),
        ),
        off=providers.Singleton(NoCache),
    )
    user_cache = providers.Singleton(
        UserCache,
        cache,
        persistence.reads.provider,
        ttl_seconds=settings.provided.cache_ttl_seconds,
    )
    feed = Loop(_listening, cache)
