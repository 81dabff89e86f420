"""Cache invalidations broadcast to every instance over Redis pub/sub.

Pub/sub delivers at most once, and nothing while a subscriber is disconnected: so the
listener reports each loss of its subscription (`on_down`) and each new one (`on_up`),
and the in-process tier it feeds serves nothing in between and starts empty after.

A publish returns once the message has come back on this instance's own subscription:
Redis hands a message to every subscriber at once, so by then every other instance has
it too, and a client's next request, wherever it lands, is judged with it. (Without
the wait, an instance could answer that request from memory before reading the news.)
"""

import asyncio
import contextlib
import json
import random
import secrets
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
# Marks a message's own echo; instances that predate it take it for a key nobody holds.
_ECHO = "echo:"
# Redis answers in well under a millisecond; past this the subscription is failing and
# about to be reported down, and the caller should not wait on it any longer.
ECHO_TIMEOUT_SECONDS = 1.0


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
        self._subscribed = False
        self._echoes: dict[str, asyncio.Future[None]] = {}

    async def publish(self, keys: Collection[str]) -> None:
        """Tell every instance; repeating it is harmless, so it is retried. Returns once
        Redis has passed it to every subscriber (see the module's note), or at once
        while this instance is not subscribed."""
        echo = f"{_ECHO}{secrets.token_hex(8)}" if self._subscribed else None
        message = json.dumps([*sorted(keys), echo] if echo else sorted(keys))
        if echo is None:
            await self._publish(message)
            return
        heard = self._echoes[echo] = asyncio.get_running_loop().create_future()
        try:
            await self._publish(message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(heard, ECHO_TIMEOUT_SECONDS)
        finally:
            self._echoes.pop(echo, None)

    async def _publish(self, message: str) -> None:

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
                self._subscribed = True
                await self._deliver(pubsub, on_keys)
            except asyncio.CancelledError:
                self._unsubscribed()
                raise
            except Exception as error:
                self._unsubscribed()
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

    def _unsubscribed(self) -> None:
        self._subscribed = False
        for heard in self._echoes.values():  # they will not come back: stop waiting
            if not heard.done():
                heard.set_result(None)

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
                if message.get("type") == "message" and (
                    keys := self._heard(_decode(message.get("data")))
                ):
                    on_keys(keys)
                continue
            if pinged_at is not None and now - pinged_at >= self._ping_interval:
                # A link that drops packets silently looks like a quiet channel; only
                # a missing answer tells them apart.
                raise TimeoutError("no answer to PING on the invalidation feed")
            if pinged_at is None and now - last_heard >= self._ping_interval:
                await pubsub.ping()
                pinged_at = now

    def _heard(self, keys: list[str]) -> list[str]:
        """`keys` without echo marks, after waking whoever waits for this instance's;
        none for this instance's own echo: it dropped (or amended, `Cache.amend`) them
        itself before publishing, and a later write is refused by the stamps anyway."""
        if not keys or not keys[-1].startswith(_ECHO):
            return keys
        heard = self._echoes.get(keys[-1])
        if heard is None:
            return keys[:-1]  # another instance's, or one of ours given up waiting for
        if not heard.done():
            heard.set_result(None)
        return []


def _decode(data: object) -> list[str]:
    try:
        keys = json.loads(data if isinstance(data, (str, bytes)) else b"[]")
    except ValueError:
        return []
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
