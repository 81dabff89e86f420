"""The in-process cache: a bounded TTL map, fast enough to sit in front of every
authenticated request. Also the whole cache of a single process without Redis."""

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping

from application.ports.cache import Cache, CacheEntry, Rewrite

_VERSIONS_KEPT = 100_000
# How long an invalidation is remembered: longer than any read that could still be
# setting a value it began before the invalidation. Older reads are refused by the floor,
# so the records cost memory for the recent writes only, not for every write ever made.
_VERSION_SECONDS = 60.0


class InProcessCache(Cache):
    """LRU-bounded at `max_entries`; each entry lives `ttl_seconds` at most (also when
    a caller asks for longer: the small local tier must not outlive its purpose).

    Stamps are numbers from one counter: invalidating a key records the next number
    for it, and `set` refuses a stamp older than the key's record. Records are kept for
    a minute and 100,000 at most; forgetting one raises the floor below which every
    stamp is refused, so a forgotten invalidation can never let a stale value in.

    Memory stays flat under steady traffic: expired entries at the cold end are dropped
    as new ones arrive, and old invalidation records as new ones are made.
    """

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        ttl_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._invalidated: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._counter = itertools.count(1)
        self._now = 0
        self._floor = 0
        self._clears = 0
        self._max_entries = max_entries
        self._max_ttl = ttl_seconds
        self._monotonic = monotonic

    async def get(self, key: str) -> CacheEntry:
        return self.get_now(key)

    def get_now(self, key: str) -> CacheEntry:
        stamp = str(self._now)
        found = self._entries.get(key)
        if found is None:
            return CacheEntry(None, stamp)
        value, expires_at = found
        if self._monotonic() >= expires_at:
            del self._entries[key]
            return CacheEntry(None, stamp)
        self._entries.move_to_end(key)
        return CacheEntry(value, stamp)

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        read_at = int(stamp)
        if read_at < self._floor or read_at < self._invalidated.get(key, (0, 0.0))[0]:
            return  # invalidated after the read this value came from
        if self._max_ttl is not None:
            ttl_seconds = min(ttl_seconds, self._max_ttl)
        now = self._monotonic()
        self._entries[key] = (value, now + ttl_seconds)
        self._entries.move_to_end(key)
        entries = self._entries
        while len(entries) > self._max_entries:
            entries.popitem(last=False)
        # The least recently used end: drop what has expired there (each entry once).
        while entries and next(iter(entries.values()))[1] <= now:
            entries.popitem(last=False)

    async def invalidate(self, keys: Collection[str]) -> None:
        self.invalidate_now(keys)

    def invalidate_now(self, keys: Collection[str]) -> None:
        self._now = next(self._counter)
        now = self._monotonic()
        records = self._invalidated
        for key in keys:
            self._entries.pop(key, None)
            records[key] = (self._now, now)
            records.move_to_end(key)
        forget_before = now - _VERSION_SECONDS
        while records and (
            len(records) > _VERSIONS_KEPT or next(iter(records.values()))[1] < forget_before
        ):
            _, (forgotten, _at) = records.popitem(last=False)
            self._floor = max(self._floor, forgotten)

    async def amend(self, rewrites: Mapping[str, Rewrite]) -> None:
        self.amend_now(rewrites)

    def amend_now(self, rewrites: Mapping[str, Rewrite]) -> None:
        # One synchronous step: nothing can invalidate between the read and the put back.
        held = {}
        for key in rewrites:
            self.get_now(key)  # drops an expired entry (`SiblingCache`: catches up first)
            if (found := self._entries.get(key)) is not None:
                held[key] = found
        clears = self._clears
        self.invalidate_now(rewrites.keys())
        if self._clears != clears:
            return  # everything was dropped meanwhile (`SiblingCache`)
        for key, (value, expires_at) in held.items():
            try:
                amended = rewrites[key](value)
            except Exception:
                amended = None
            if amended is not None:
                self._entries[key] = (amended, expires_at)

    def clear(self) -> None:
        """Drop everything and refuse every value read before now."""
        self._clears += 1
        self._now = next(self._counter)
        self._floor = self._now
        self._entries.clear()
        self._invalidated.clear()

    def __len__(self) -> int:
        return len(self._entries)


class NoCache(Cache):
    """Caching turned off: every read is a miss. The stamp still moves with each
    invalidation, so a read after a write never joins a load that began before it."""

    def __init__(self) -> None:
        self._invalidations = 0

    async def get(self, key: str) -> CacheEntry:
        return CacheEntry(None, str(self._invalidations))

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        return None

    async def invalidate(self, keys: Collection[str]) -> None:
        self._invalidations += 1

    async def amend(self, rewrites: Mapping[str, Rewrite]) -> None:
        await self.invalidate(rewrites.keys())
