"""Two instances on one database: every committed event is relayed once cluster-wide, in
commit order, and reaches every instance (through Redis when there is one)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from dependency_injector import providers

from adapters.memory.password_hasher import FakePasswordHasher
from adapters.redis.client import create_redis_client
from adapters.redis.event_bus import RedisEventBus
from application.ports.event_outbox import OutboxEvent
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.conftest import STARTUP_TIMEOUT, make_settings
from tests.integration.http.helpers import register

EVENTS = 30


@contextlib.asynccontextmanager
async def instance(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    config = make_settings(tmp_path, event_relay_interval_seconds=0.05, **settings)
    container = Container(settings=providers.Object(config))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    async with LifespanManager(
        create_app(config, container), startup_timeout=STARTUP_TIMEOUT
    ) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, container


async def unrelayed(container: Any) -> list[OutboxEvent]:
    async with container.transactions() as tx:
        return [e for e in await tx.events.after(None, limit=10_000) if e.relayed_at is None]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


async def all_relayed(container: Any) -> list[OutboxEvent]:
    """Every event in the outbox, once none is waiting any more."""

    async def none_waiting() -> bool:
        return not await unrelayed(container)

    await eventually(none_waiting)
    async with container.transactions() as tx:
        return await tx.events.after(None, limit=10_000)


def relayed_here(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("hexahub_events_relayed_total{")
    )


async def commit_on_both(one: httpx.AsyncClient, two: httpx.AsyncClient) -> None:
    """`EVENTS` registrations, alternately on each instance, some at the same time."""
    for start in range(0, EVENTS, 6):
        await asyncio.gather(*(register(one if n % 2 else two) for n in range(start, start + 6)))


async def test_each_event_is_relayed_once_cluster_wide_and_reaches_every_instance(
    tmp_path: Path, postgres_clean_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    shared = {
        "database_url": postgres_clean_url,
        "redis_url": redis_server_url,
        "redis_key_prefix": redis_prefix,
    }
    received: list[OutboxEvent] = []

    async def keep(event: OutboxEvent) -> None:
        received.append(event)

    client = create_redis_client(redis_server_url)
    listener = RedisEventBus(client, channel=f"{redis_prefix}events")
    listening = asyncio.create_task(listener.listen(keep))
    try:
        async with (
            instance(tmp_path / "a", **shared) as (one, _),
            instance(tmp_path / "b", **shared) as (two, b),
        ):
            # Both instances share this process's counters (earlier tests' too): the
            # change over one scrape counts both relays.
            before = relayed_here((await one.get("/metrics")).text)
            await commit_on_both(one, two)
            outbox = await all_relayed(b)
            relayed = relayed_here((await one.get("/metrics")).text) - before

            async def all_heard() -> bool:
                return len(received) >= len(outbox)

            await eventually(all_heard, seconds=5)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await client.aclose()

    assert len(outbox) == EVENTS
    assert relayed == EVENTS, "each event handed on by exactly one relay"
    ids = [e.id for e in received]
    assert len(ids) == len(set(ids)) == EVENTS, "each event published once"
    assert ids == sorted(ids), "in commit (id) order"
    assert {e.name for e in received} == {"user.registered"}


async def test_without_redis_two_instances_on_one_sqlite_file_relay_each_event_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    heard: dict[str, list[OutboxEvent]] = {"a": [], "b": []}
    async with (
        instance(tmp_path / "a", database_url=sqlite_url, workers=2) as (one, a),
        instance(tmp_path / "b", database_url=sqlite_url, workers=2) as (two, b),
    ):
        listeners = []
        for name, container in (("a", a), ("b", b)):

            async def keep(event: OutboxEvent, into: list[OutboxEvent] = heard[name]) -> None:
                into.append(event)

            listeners.append(asyncio.create_task(container.bus().listen(keep)))
        await asyncio.sleep(0)
        try:
            await commit_on_both(one, two)
            outbox = await all_relayed(a)
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)

    # In process, each instance's bus reaches its own listeners: between them, once.
    ids = [e.id for e in heard["a"] + heard["b"]]
    assert sorted(ids) == sorted(e.id for e in outbox)
    assert len(ids) == len(set(ids)) == EVENTS
