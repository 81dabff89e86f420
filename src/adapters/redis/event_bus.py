"""Relayed events broadcast to every instance over Redis pub/sub.

Pub/sub delivers at most once and nothing while a subscriber is disconnected: a listener
that lost its subscription reads what it missed from the outbox (the port says so).
"""

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from redis.asyncio import Redis

from adapters.redis.client import UNAVAILABLE, call
from adapters.resilience.circuit_breaker import CircuitBreaker
from application.errors import CacheUnavailableError
from application.ports.event_bus import EventBus
from application.ports.event_outbox import OutboxEvent

log = structlog.get_logger()


class RedisEventBus(EventBus):
    def __init__(
        self,
        client: Redis,
        *,
        channel: str = "hexahub:events",
        breaker: CircuitBreaker | None = None,
        max_backoff: float = 5.0,
    ) -> None:
        self._client = client
        self._channel = channel
        self._breaker = breaker
        self._max_backoff = max_backoff

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        """One round trip for the batch, in order. Not retried here: the relay hands the
        batch over again, and listeners tell a repeat by the event id."""
        messages = [encode(event) for event in events]

        async def send() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for message in messages:
                    pipe.publish(self._channel, message)
                await pipe.execute()

        def unavailable(error: BaseException) -> CacheUnavailableError:
            log.warning("events_unpublished", error=type(error).__name__)
            return CacheUnavailableError()

        await call(send, breaker=self._breaker, idempotent=False, unavailable=unavailable)

    async def listen(
        self,
        on_event: Callable[[OutboxEvent], Awaitable[None]],
        *,
        on_subscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                failures = 0
                if on_subscribed is not None:
                    # Subscribed first: what is published from here on is queued for us
                    # while the listener reads back what it missed.
                    await on_subscribed()
                async for message in pubsub.listen():
                    event = decode(message.get("data")) if message["type"] == "message" else None
                    if event is not None:
                        try:
                            await on_event(event)
                        except Exception as error:  # the listener's failure, not the feed's
                            log.warning("event_listener_failed", error=type(error).__name__)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if failures == 0:
                    log.warning("events_feed_lost", error=type(error).__name__)
                failures += 1
                bound = min(self._max_backoff, 0.1 * 2**failures)
                await asyncio.sleep(random.uniform(bound / 2, bound))  # noqa: S311 (jitter)
            finally:
                with contextlib.suppress(*UNAVAILABLE):
                    await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]


def encode(event: OutboxEvent) -> str:
    return json.dumps(
        {
            "id": str(event.id),
            "name": event.name,
            "topic": event.topic,
            "aggregate_id": event.aggregate_id,
            "account_id": str(event.account_id) if event.account_id else None,
            "data": event.data,
            "facts": event.facts,
            "occurred_at": event.occurred_at.isoformat(),
        },
        separators=(",", ":"),
    )


def decode(raw: Any) -> OutboxEvent | None:
    """None for a message that is not an event of this version (it is skipped)."""
    try:
        fields = json.loads(raw)
        return OutboxEvent(
            id=UUID(fields["id"]),
            name=str(fields["name"]),
            topic=str(fields["topic"]),
            aggregate_id=str(fields["aggregate_id"]),
            account_id=UUID(fields["account_id"]) if fields["account_id"] else None,
            data=dict(fields["data"]),
            facts=dict(fields["facts"]),
            occurred_at=datetime.fromisoformat(fields["occurred_at"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
