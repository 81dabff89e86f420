"""Cache invalidations broadcast to every instance over Redis pub/sub.

Pub/sub delivers at most once, and nothing while a subscriber is disconnected: so the
listener reports each loss of its subscription (`on_down`) and each new one (`on_up`),
and the in-process tier it feeds serves nothing in between and starts empty after.
"""

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Collection

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.redis.client import call
from adapters.resilience.circuit_breaker import CircuitBreaker
from application.errors import CacheUnavailableError

log = structlog.get_logger()

_UNAVAILABLE = (RedisError, OSError, TimeoutError)


class RedisInvalidationBus:
    def __init__(
        self,
        client: Redis,
        *,
        channel: str = "hexahub:cache:invalidate",
        ping_interval: float = 5.0,
        max_backoff: float = 5.0,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._client = client
        self._breaker = breaker
        self._channel = channel
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff

    async def publish(self, keys: Collection[str]) -> None:
        """Tell every instance; repeating it is harmless, so it is retried."""
        message = json.dumps(sorted(keys))

        def unavailable(error: BaseException) -> CacheUnavailableError:
            log.warning("cache_invalidation_unsent", error=type(error).__name__)
            return CacheUnavailableError()

        await call(
            lambda: self._client.publish(self._channel, message),
            breaker=self._breaker,
            idempotent=True,
            unavailable=unavailable,
        )

    async def listen(
        self,
        on_keys: Callable[[list[str]], None],
        on_up: Callable[[], object],
        on_down: Callable[[], None],
    ) -> None:
        """Run until cancelled: subscribe, deliver, and after any failure report it and
        subscribe again, backing off with jitter up to `max_backoff` seconds."""
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                await self._confirmed(pubsub)
                if failures:
                    log.info("cache_invalidation_resumed")
                failures = 0
                await _maybe_await(on_up())
                await self._deliver(pubsub, on_keys)
            except _UNAVAILABLE as error:
                if failures == 0:
                    log.warning("cache_invalidation_lost", error=type(error).__name__)
                on_down()
                failures += 1
                bound = min(self._max_backoff, 0.1 * 2**failures)
                await asyncio.sleep(random.uniform(bound / 2, bound))  # noqa: S311 (jitter)
            finally:
                with contextlib.suppress(*_UNAVAILABLE):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]

    async def _confirmed(self, pubsub: object) -> None:
        # The subscription counts once Redis has acknowledged it: only then can no
        # later invalidation be missed.
        while True:
            message = await pubsub.get_message(timeout=self._ping_interval)  # type: ignore[attr-defined]
            if message is None:
                raise TimeoutError("no subscribe acknowledgement")
            if message.get("type") == "subscribe":
                return

    async def _deliver(self, pubsub: object, on_keys: Callable[[list[str]], None]) -> None:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        while True:
            message = await pubsub.get_message(  # type: ignore[attr-defined]
                ignore_subscribe_messages=True, timeout=self._ping_interval
            )
            if message is not None:
                last_heard = loop.time()
                if message.get("type") == "message":
                    on_keys(_decode(message.get("data")))
                continue
            if loop.time() - last_heard >= self._ping_interval:
                # A silent link and a quiet channel look alike: ask.
                await pubsub.ping()  # type: ignore[attr-defined]
                last_heard = loop.time()


def _decode(data: object) -> list[str]:
    try:
        keys = json.loads(data if isinstance(data, (str, bytes)) else b"[]")
    except ValueError:
        return []
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


async def _maybe_await(result: object) -> None:
    if asyncio.iscoroutine(result):
        await result
