"""Two cache tiers: a small in-process one in front of the shared one in Redis, kept
honest across instances by broadcast invalidations.

Redis-down policy: a read that Redis cannot answer is a miss (the database answers); an
invalidation that cannot reach Redis is kept and retried before Redis serves again; and
while the invalidation feed is down the in-process tier serves nothing, since it could
miss what other instances change. When the feed returns, the in-process tier starts
empty and the kept invalidations go out first.
"""

import asyncio
import contextlib
from collections.abc import Callable, Collection, Mapping

import structlog

from adapters.memory.cache import InProcessCache
from adapters.redis.cache import RedisCache
from adapters.redis.invalidation_bus import RedisInvalidationBus
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache, CacheEntry, Rewrite

log = structlog.get_logger()

LOCAL, REDIS = "local", "redis"
# A stamp part meaning "do not store in this tier".
_SKIP = "-"

LookupListener = Callable[[str, str, bool], None]
"""(cache name, tier, hit)."""


class TieredCache(Cache):
    def __init__(
        self,
        local: InProcessCache,
        remote: RedisCache | None = None,
        bus: RedisInvalidationBus | None = None,
        *,
        on_lookup: LookupListener | None = None,
    ) -> None:
        """Without `remote` the in-process tier is the whole cache (one process, no
        Redis); with it, the in-process tier serves only while `bus` is listening."""
        self._local = local
        self._remote = remote
        self._bus = bus
        self._on_lookup = on_lookup or (lambda *_: None)
        self._local_live = remote is None
        self._pending: set[str] = set()
        self._flushing = asyncio.Lock()
        self._listeners: list[Callable[[Collection[str]], None]] = []

    def on_invalidated(self, listener: Callable[[Collection[str]], None]) -> None:
        """Also tell `listener` of every invalidation, this instance's or another's:
        state held outside the cache (the key ring) can follow it."""
        self._listeners.append(listener)

    @property
    def local_tier_live(self) -> bool:
        return self._local_live

    async def get(self, key: str) -> CacheEntry:
        name = key.partition(":")[0]
        # The local stamp is taken even while the tier is off: it still moves with every
        # invalidation, which keeps loads that straddle a write apart (single flight).
        entry = self._local.get_now(key)
        local_stamp = entry.stamp
        if self._local_live:
            self._on_lookup(name, LOCAL, entry.value is not None)
            if entry.value is not None or self._remote is None:
                return CacheEntry(entry.value, f"{local_stamp}/{_SKIP}")
        if self._remote is not None and key in self._pending:
            await self.flush()  # Redis may hold this key's old value until it goes out
        if self._remote is None or key in self._pending:
            return CacheEntry(None, f"{local_stamp}/{_SKIP}")
        try:
            remote = await self._remote.get(key)
        except ServiceUnavailableError:
            return CacheEntry(None, f"{local_stamp}/{_SKIP}")
        self._on_lookup(name, REDIS, remote.value is not None)
        if remote.value is not None and self._local_live:
            await self._local.set(key, remote.value, ttl_seconds=float("inf"), stamp=local_stamp)
        return CacheEntry(remote.value, f"{local_stamp}/{remote.stamp}")

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        local_stamp, _, remote_stamp = stamp.partition("/")
        if self._local_live:
            await self._local.set(key, value, ttl_seconds=ttl_seconds, stamp=local_stamp)
        if remote_stamp not in (_SKIP, "") and self._remote is not None:
            with contextlib.suppress(ServiceUnavailableError):  # not cached there this time
                await self._remote.set(key, value, ttl_seconds=ttl_seconds, stamp=remote_stamp)

    async def invalidate(self, keys: Collection[str]) -> None:
        self._local.invalidate_now(keys)
        await self._spread(keys)

    async def amend(self, rewrites: Mapping[str, Rewrite]) -> None:
        # Only the in-process tier keeps amended copies: Redis and the other instances
        # drop the keys, and this instance's own echo of them is not applied again here.
        if self._local_live:
            self._local.amend_now(rewrites)
        else:
            self._local.invalidate_now(rewrites.keys())
        await self._spread(rewrites.keys())

    async def _spread(self, keys: Collection[str]) -> None:
        """Tell the listeners, Redis and the other instances of keys dropped here."""
        self._notify(keys)
        if self._remote is None:
            return
        self._pending.update(keys)
        await self.flush()

    async def flush(self, *, quiet: bool = False) -> None:
        """Send the kept invalidations: drop them in Redis, then tell every instance.
        Kept until both succeed (a repeat costs a reload, a loss a stale read)."""
        if self._remote is None or not self._pending:
            return
        async with self._flushing:
            keys = set(self._pending)
            if not keys:
                return
            try:
                await self._remote.invalidate(keys)
                if self._bus is not None:
                    await self._bus.publish(keys)
            except ServiceUnavailableError:
                if not quiet:
                    log.warning("cache_invalidation_deferred", keys=len(self._pending))
                return
            self._pending -= keys
            if quiet:
                log.info("cache_invalidation_sent", keys=len(keys))

    @property
    def pending(self) -> int:
        """Invalidations kept because Redis could not take them yet."""
        return len(self._pending)

    # --- the invalidation feed --------------------------------------------------------
    def received(self, keys: list[str]) -> None:
        self._local.invalidate_now(keys)
        self._notify(keys)

    def _notify(self, keys: Collection[str]) -> None:
        for listener in self._listeners:
            listener(keys)

    async def feed_up(self, server_changed: bool = False) -> None:
        self._local.clear()
        if server_changed and self._remote is not None:
            # A restarted or failed-over Redis may have lost invalidations but kept the
            # values they were meant to remove: drop every cached copy.
            log.warning("cache_dropped_after_redis_change")
            with contextlib.suppress(ServiceUnavailableError):
                await self._remote.drop_all()
        await self.flush()
        self._local_live = True

    def feed_down(self) -> None:
        self._local_live = False
        self._local.clear()

    async def listen(self, retry_every: float = 1.0) -> None:
        """Run the invalidation feed, and retry kept invalidations, until cancelled
        (a no-op without Redis)."""
        if self._bus is None:
            return
        await asyncio.gather(
            self._bus.listen(self.received, self.feed_up, self.feed_down),
            self._retry_pending(retry_every),
        )

    async def _retry_pending(self, every: float) -> None:
        # Kept invalidations must not wait for this instance's next write: until they
        # are out, other instances may serve what they were meant to drop.
        while True:
            await asyncio.sleep(every)
            if self._pending:
                await self.flush(quiet=True)
