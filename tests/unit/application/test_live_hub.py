"""The live hub on in-memory adapters: a bus that drops its subscription (Redis went
away) is caught up from the outbox when it comes back, and nothing arrives twice."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from adapters.system.id_generator import Uuid7IdGenerator
from application.common.security import Principal
from application.live.hub import Ended, LiveHub
from application.ports.event_bus import EventBus
from application.ports.event_outbox import OutboxEvent
from domain.access.permissions import Permission

_ids = Uuid7IdGenerator()
NOW = datetime.now(UTC)


class DroppingBus(EventBus):
    """Delivers what is published while "connected"; `reconnect` runs `on_subscribed`
    again, as the Redis bus does after a lost subscription."""

    def __init__(self) -> None:
        self.connected = True
        self._on_event: Callable[[OutboxEvent], Awaitable[None]] | None = None
        self._on_subscribed: Callable[[], Awaitable[None]] | None = None

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        if self.connected and self._on_event is not None:
            for event in events:
                await self._on_event(event)

    async def listen(
        self,
        on_event: Callable[[OutboxEvent], Awaitable[None]],
        *,
        on_subscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._on_event, self._on_subscribed = on_event, on_subscribed
        if on_subscribed is not None:
            await on_subscribed()
        await asyncio.Event().wait()

    async def reconnect(self) -> None:
        self.connected = True
        assert self._on_subscribed is not None
        await self._on_subscribed()


def user_event(n: int) -> OutboxEvent:
    return OutboxEvent(
        id=_ids.new_id(),
        name="user.updated",
        topic="users",
        aggregate_id="u",
        account_id=None,
        data={"n": n},
        facts={"user_id": str(uuid4()), "fields": ["full_name"]},
        occurred_at=NOW,
    )


async def committed(store: InMemoryStore, events: list[OutboxEvent]) -> None:
    async with InMemoryUnitOfWork(store) as tx:
        await tx.events.add(events)
        await tx.commit()


async def received(subscription: object, count: int) -> list[int]:
    found = []
    for _ in range(count):
        event = await asyncio.wait_for(subscription.next(), timeout=1)  # type: ignore[attr-defined]
        assert event is not None
        found.append(event.data["n"])
    return found


async def test_a_bus_that_reconnects_is_caught_up_from_the_outbox_without_repeats() -> None:
    store, bus = InMemoryStore(), DroppingBus()
    hub = LiveHub(
        bus=bus,
        transactions=lambda: InMemoryUnitOfWork(store),
        clock=FixedClock(NOW),
        retention=timedelta(days=1),
    )
    listening = asyncio.create_task(hub.run())
    await asyncio.sleep(0)
    principal = Principal(user=None, permissions=frozenset({Permission.USERS_READ}), client_id="c")

    async def never() -> Principal:
        raise AssertionError("not asked")

    subscription = hub.open(principal, never)
    hub.subscribe(subscription, ["users"])
    try:
        first = [user_event(n) for n in range(3)]
        await committed(store, first)
        await bus.publish(first)
        assert await received(subscription, 3) == [0, 1, 2]

        bus.connected = False  # Redis is away: these are relayed, and nobody hears them
        missed = [user_event(n) for n in range(3, 6)]
        await committed(store, missed)
        await bus.publish(missed)
        await bus.reconnect()
        assert await received(subscription, 3) == [3, 4, 5]

        await bus.publish(missed)  # relayed again (at least once): dropped
        late = [user_event(6)]
        await committed(store, late)
        await bus.publish(late)
        assert await received(subscription, 1) == [6]
        assert subscription.backlog == 0
    finally:
        listening.cancel()


async def test_a_full_queue_ends_the_connection_and_holds_nothing() -> None:
    store = InMemoryStore()
    hub = LiveHub(
        bus=DroppingBus(),
        transactions=lambda: InMemoryUnitOfWork(store),
        clock=FixedClock(NOW),
        retention=timedelta(days=1),
        queue_limit=3,
    )
    principal = Principal(user=None, permissions=frozenset({Permission.USERS_READ}), client_id="c")

    async def never() -> Principal:
        raise AssertionError("not asked")

    subscription = hub.open(principal, never)
    hub.subscribe(subscription, ["users"])
    for n in range(10):
        await hub.dispatch(user_event(n))
    assert subscription.ended is Ended.SLOW
    assert subscription.backlog == 0
    assert await subscription.next() is None
