"""Cache invalidations broadcast to every instance over Redis pub/sub.

Pub/sub delivers at most once, and nothing while a subscriber is disconnected: so the
listener reports each loss of its subscription (`on_down`) and each new one (`on_up`),
and the in-process tier it feeds serves nothing in between and starts empty after.
"""

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Collection
from typing import Any

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
        on_up: Callable[[bool], Awaitable[None]],
        on_down: Callable[[], None],
    ) -> None:
        """Run until cancelled: subscribe, deliver, and after any failure report it and
        subscribe again, backing off with jitter up to `max_backoff` seconds.

        `on_up(server_changed)` follows each confirmed subscription; `server_changed`
        says Redis is not the server process it was before (a restart or a failover,
        either of which may have lost writes)."""
        failures = 0
        server: str | None = None
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                await self._confirmed(pubsub)
                current = await self._server_id()
                if failures:
                    log.info("cache_invalidation_resumed")
                failures = 0
                await on_up(server is not None and current != server)
                server = current
                await self._deliver(pubsub, on_keys)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Anything, not only connection errors: a listener that died quietly
                # would leave the in-process tier serving with no news.
                if failures == 0:
                    log.warning("cache_invalidation_lost", error=type(error).__name__)
                on_down()
                failures += 1
                bound = min(self._max_backoff, 0.1 * 2**failures)
                await asyncio.sleep(random.uniform(bound / 2, bound))  # noqa: S311 (jitter)
            finally:
                with contextlib.suppress(*_UNAVAILABLE):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]

    async def _server_id(self) -> str:
        info = await self._client.info("server")
        return str(info.get("run_id", ""))

    async def _confirmed(self, pubsub: Any) -> None:
        # The subscription counts once Redis has acknowledged it: only then can no
        # later invalidation be missed.
        while True:
            message = await pubsub.get_message(timeout=self._ping_interval)
            if message is None:
                raise TimeoutError("no subscribe acknowledgement")
            if message.get("type") == "subscribe":
                return

    async def _deliver(self, pubsub: Any, on_keys: Callable[[list[str]], None]) -> None:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        pinged_at: float | None = None
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self._ping_interval / 2
            )
            now = loop.time()
            if message is not None:
                last_heard, pinged_at = now, None  # any message, the pong too, is life
                if message.get("type") == "message":
                    on_keys(_decode(message.get("data")))
                continue
            if pinged_at is not None and now - pinged_at >= self._ping_interval:
                # A link that drops packets silently looks like a quiet channel; only
                # a missing answer tells them apart.
                raise TimeoutError("no answer to PING on the invalidation feed")
            if pinged_at is None and now - last_heard >= self._ping_interval:
                await pubsub.ping()
                pinged_at = now


def _decode(data: object) -> list[str]:
    try:
        keys = json.loads(data if isinstance(data, (str, bytes)) else b"[]")
    except ValueError:
        return []
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
