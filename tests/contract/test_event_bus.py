"""The `EventBus` contract, run against the in-process bus and real Redis pub/sub:
every listener gets every event published after it started listening, in order, as it
was published; a listener that fails does not stop the others.

The Redis parameter carries the `redis` mark itself (see test_revocation_store)."""

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from adapters.memory.event_bus import InProcessEventBus
from adapters.redis.client import create_redis_client
from adapters.redis.event_bus import RedisEventBus
from adapters.system.id_generator import Uuid7IdGenerator
from application.ports.event_bus import EventBus
from application.ports.event_outbox import OutboxEvent

_ids = Uuid7IdGenerator()


def event(n: int) -> OutboxEvent:
    return OutboxEvent(
        id=_ids.new_id(),
        name="session.revoked",
        topic="account",
        aggregate_id=str(uuid.UUID(int=n)),
        account_id=uuid.UUID(int=1000 + n) if n % 2 else None,
        data={"id": str(uuid.UUID(int=n)), "ip": None, "n": n},
        facts={"session_id": str(uuid.UUID(int=n)), "reason": "logout"},
        occurred_at=datetime(2026, 1, 1, 12, 0, n, tzinfo=UTC),
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    if request.param == "redis":
        return (
            "redis",
            request.getfixturevalue("redis_server_url"),
            request.getfixturevalue("redis_prefix"),
        )
    return ("memory", "", "")


@pytest.fixture
async def bus(backend: tuple[str, str, str]) -> AsyncIterator[EventBus]:
    kind, url, prefix = backend
    if kind == "memory":
        yield InProcessEventBus()
        return
    client = create_redis_client(url)
    channel = f"{prefix}events"
    try:
        yield RedisEventBus(client, channel=channel)
    finally:
        await client.aclose()


class Kept:
    """What a listener received, and a wait for `expected` of them."""

    def __init__(self, expected: int) -> None:
        self.events: list[OutboxEvent] = []
        self._expected = expected
        self._done = asyncio.Event()

    async def keep(self, received: OutboxEvent) -> None:
        self.events.append(received)
        if len(self.events) >= self._expected:
            self._done.set()

    async def all_in(self) -> None:
        await asyncio.wait_for(self._done.wait(), timeout=5)


async def listening(
    bus: EventBus, on_event: Callable[[OutboxEvent], Awaitable[None]]
) -> asyncio.Task[None]:
    """A listener on `bus`, returned once it receives (Redis subscribes asynchronously):
    probes are published until one arrives, and are not handed to `on_event`."""
    probe = dataclasses.replace(event(0), name="probe")
    subscribed = asyncio.Event()

    async def watch(received: OutboxEvent) -> None:
        if received.name != "probe":
            await on_event(received)
        elif received.id == probe.id:
            subscribed.set()

    task = asyncio.create_task(bus.listen(watch))
    async with asyncio.timeout(5):
        while not subscribed.is_set():
            await bus.publish([probe])
            await asyncio.sleep(0.02)
    return task


async def test_every_listener_gets_every_event_in_order_as_published(bus: EventBus) -> None:
    first, second = Kept(10), Kept(10)
    tasks = [await listening(bus, first.keep), await listening(bus, second.keep)]
    published = [event(n) for n in range(10)]
    try:
        await bus.publish(published[:4])
        await bus.publish(published[4:])
        await first.all_in()
        await second.all_in()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert first.events == published
    assert second.events == published


async def test_a_failing_listener_does_not_stop_the_others(bus: EventBus) -> None:
    kept = Kept(3)

    async def fail(e: OutboxEvent) -> None:
        raise RuntimeError("listener bug")

    tasks = [await listening(bus, fail), await listening(bus, kept.keep)]
    published = [event(n) for n in range(3)]
    try:
        await bus.publish(published)
        await kept.all_in()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert kept.events == published


async def test_publishing_with_nobody_listening_is_harmless(bus: EventBus) -> None:
    await bus.publish([event(1)])
    await bus.publish([])
