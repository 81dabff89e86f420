from abc import abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CacheEntry:
    value: bytes | None
    """None on a miss."""
    stamp: str
    """Opaque: hand it back to `Cache.set`, which then stores the value only if the key
    was not invalidated since this read. A load that raced a write never caches the
    value it read before the write."""


Rewrite = Callable[[bytes], bytes | None]
"""A cached value as a change known in full leaves it (`Cache.amend`)."""


class Cache(Protocol):
    """Bytes under namespaced keys (`user:<id>`), each with a time to live: a copy of
    what the database holds, never the source of truth.

    A store that cannot be reached raises `CacheUnavailableError`; the caller then reads
    the database. Invalidation must not be lost silently: an adapter that cannot
    invalidate raises, and a composed cache retries it before serving that key again.
    """

    @abstractmethod
    async def get(self, key: str) -> CacheEntry: ...

    @abstractmethod
    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        """Store unless `key` was invalidated after the read that gave `stamp`."""

    @abstractmethod
    async def invalidate(self, keys: Collection[str]) -> None:
        """Drop `keys` everywhere this cache reaches (every instance, every tier)."""

    @abstractmethod
    async def amend(self, rewrites: Mapping[str, Rewrite]) -> None:
        """`invalidate(rewrites.keys())`, except that this process goes on serving the
        values it holds, as their `Rewrite` turns them (None, or an error: dropped). For
        a change the writer knows in full, so that the next read here needs no reload;
        everywhere else the keys are dropped. As after `invalidate`, a value read before
        is refused, and any later invalidation drops an amended one."""
