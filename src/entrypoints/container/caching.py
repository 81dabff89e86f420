"""The user and role cache in front of every authenticated request."""

from collections.abc import AsyncIterator
from pathlib import Path

from dependency_injector import containers, providers
from sqlalchemy.engine import make_url

from adapters.memory.cache import InProcessCache, NoCache
from adapters.memory.sibling_cache import SharedCounter, SiblingCache
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
    """`tiered` (Redis and each process's memory), `siblings` (each process's memory,
    emptied when any process on the SQLite file writes), `local` (memory alone) or
    `off`."""
    if not settings.cache_enabled:
        return "off"
    if settings.redis_url:
        return "tiered"
    if sibling_counter_path(settings) is not None:
        return "siblings"
    # In-memory storage belongs to one process. Postgres without Redis usually means
    # several replicas on several machines: no cache rather than one that serves a
    # demoted user from another replica's memory.
    single_process = settings.workers == 1 and storage_kind(settings) == "memory"
    return "local" if single_process else "off"


def sibling_counter_path(settings: Settings) -> Path | None:
    """Beside a SQLite database file (as SQLite's own `-wal` and `-shm`), the counter its
    processes share (`SiblingCache`); None for any other database."""
    if storage_kind(settings) == "memory" or not settings.uses_sqlite:
        return None
    database = make_url(settings.effective_database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(f"{database}-cache-generation")


async def _sibling_counter(settings: Settings) -> AsyncIterator[SharedCounter | None]:
    path = sibling_counter_path(settings) if cache_kind(settings) == "siblings" else None
    if path is None:
        yield None
        return
    counter = SharedCounter(path)
    try:
        yield counter
    finally:
        counter.close()


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
        siblings=providers.Singleton(
            TieredCache,
            providers.Singleton(
                SiblingCache,
                providers.Resource(_sibling_counter, settings),
                max_entries=settings.provided.cache_local_max_entries,
                ttl_seconds=settings.provided.cache_ttl_seconds,
            ),
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
