"""The shared cache tier in Redis.

Keys are `<prefix>cache:{<key>}` with a sibling `<prefix>cache:{<key>}:v` holding a
random token that each invalidation replaces; the braces are a Redis Cluster hash tag,
so both land in one slot and the script below may touch them together. A read returns
the value and the token in one round trip (MGET); a store is a script that writes only
if the token is still the one that read saw (a random token, unlike a counter, cannot
come back to an old value when it expires), and only if no value is there yet (the
first load of a key wins; a later one would bring nothing newer).
"""

import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TypeVar

import structlog
from redis.asyncio import Redis

from adapters.redis.client import call
from adapters.resilience.circuit_breaker import CircuitBreaker
from application.errors import CacheUnavailableError
from application.ports.cache import Cache, CacheEntry, Rewrite

log = structlog.get_logger()

T = TypeVar("T")
# Tokens outlive any load by far; they expire so idle keys leave nothing behind.
_TOKEN_TTL_SECONDS = 86_400

_SET_IF_UNCHANGED = """
local seen = redis.call('GET', KEYS[2]) or '0'
if seen ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3], 'NX')
return 1
"""

# KEYS: value key, token key, for each key; ARGV: the tokens' TTL, then one new token
# per key. Atomic, as a MULTI pipeline would be, but a plain command: redis-py's
# pipeline hands its connection back through a task of its own (`asyncio.shield`), one
# more turn of the event loop for every invalidation.
_DROP = """
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i + 1], ARGV[(i + 1) / 2 + 1], 'EX', ARGV[1])
  redis.call('DEL', KEYS[i])
end
return 1
"""


class RedisCache(Cache):
    def __init__(
        self, client: Redis, *, prefix: str = "hexahub:", breaker: CircuitBreaker | None = None
    ) -> None:
        self._client = client
        self._prefix = f"{prefix}cache:"
        self._breaker = breaker
        self._set_if_unchanged = client.register_script(_SET_IF_UNCHANGED)
        self._drop = client.register_script(_DROP)

    async def get(self, key: str) -> CacheEntry:
        value_key, counter_key = self._keys(key)

        async def read() -> list[bytes | None]:
            # Bytes: the client does not decode responses.
            replies = await self._client.mget(value_key, counter_key)
            return [r.encode() if isinstance(r, str) else r for r in replies]

        value, counter = await self._call("get", read, idempotent=True)
        return CacheEntry(value, counter.decode() if counter is not None else "0")

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        value_key, counter_key = self._keys(key)
        millis = max(1, int(ttl_seconds * 1000))
        keys = [value_key, counter_key]
        args: list[bytes | str | int] = [value, stamp, millis]
        # Not retried: a late duplicate could land after an invalidation that the first
        # attempt's lost answer already raced.
        await self._call(
            "set", lambda: self._set_if_unchanged(keys=keys, args=args), idempotent=False
        )

    async def amend(self, rewrites: Mapping[str, Rewrite]) -> None:
        await self.invalidate(rewrites.keys())  # shared by every instance: none keeps a copy

    async def invalidate(self, keys: Collection[str]) -> None:
        if not keys:
            return

        names = [name for key in keys for name in self._keys(key)]
        args: list[str | int] = [_TOKEN_TTL_SECONDS, *(secrets.token_hex(8) for _ in keys)]

        async def drop() -> None:
            # One script: the token changes and the value goes together. Safe to
            # repeat: a second new token only refuses a few more stale stores.
            await self._drop(keys=names, args=args)

        await self._call("invalidate", drop, idempotent=True)

    async def _call(
        self, operation: str, run: Callable[[], Awaitable[T]], *, idempotent: bool
    ) -> T:
        def unavailable(error: BaseException) -> CacheUnavailableError:
            # The class only: replies and URLs stay out of the logs.
            log.warning("cache_unavailable", operation=operation, error=type(error).__name__)
            return CacheUnavailableError()

        return await call(
            run, breaker=self._breaker, idempotent=idempotent, unavailable=unavailable
        )

    async def drop_all(self) -> None:
        """Delete every cached value and token under this prefix: after Redis lost
        writes (a restart or a failover), a value whose invalidation was lost could
        otherwise come back. Only copies go; the next reads reload them."""

        async def drop() -> None:
            batch: list[str | bytes] = []
            async for name in self._client.scan_iter(match=f"{self._prefix}*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    await self._client.delete(*batch)
                    batch.clear()
            if batch:
                await self._client.delete(*batch)

        await self._call("drop_all", drop, idempotent=True)

    def _keys(self, key: str) -> tuple[str, str]:
        value_key = f"{self._prefix}{{{key}}}"
        return value_key, f"{value_key}:v"
