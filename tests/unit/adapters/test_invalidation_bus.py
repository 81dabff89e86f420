"""The invalidation feed over real Redis: delivery, and noticing a link that went
silent (through a proxy that stops forwarding without closing anything)."""

import asyncio
from urllib.parse import urlsplit

import pytest

from adapters.redis.client import create_redis_client
from adapters.redis.invalidation_bus import RedisInvalidationBus
from tests.integration.http.tcp_proxy import TcpProxy

pytestmark = pytest.mark.redis


async def test_published_keys_reach_every_other_listener_but_not_the_publisher(
    redis_server_url: str, redis_prefix: str
) -> None:
    # The publisher's cache dropped (or amended) the keys itself before publishing.
    client = create_redis_client(redis_server_url)
    buses = [RedisInvalidationBus(client, channel=f"{redis_prefix}inv") for _ in range(2)]
    heard: list[list[list[str]]] = [[], []]
    ups = [asyncio.Event(), asyncio.Event()]
    listening = []
    for bus, into, up in zip(buses, heard, ups, strict=True):

        async def on_up(_changed: bool, up: asyncio.Event = up) -> None:
            up.set()

        listening.append(asyncio.create_task(bus.listen(into.append, on_up, lambda: None)))
    try:
        await asyncio.wait_for(asyncio.gather(*(up.wait() for up in ups)), 5)
        await buses[0].publish(["user:2", "user:1"])  # returns once its echo came back
        for _ in range(100):
            if heard[1]:
                break
            await asyncio.sleep(0.01)
        assert heard == [[], [["user:1", "user:2"]]]
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        await client.aclose()


async def test_a_link_gone_silent_is_reported_down(
    redis_server_url: str, redis_prefix: str
) -> None:
    target = urlsplit(redis_server_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    client = create_redis_client(f"redis://127.0.0.1:{proxy.port}/{target.path.lstrip('/') or 0}")
    bus = RedisInvalidationBus(client, channel=f"{redis_prefix}inv", ping_interval=0.2)
    up, down = asyncio.Event(), asyncio.Event()

    async def on_up(_changed: bool) -> None:
        up.set()

    listening = asyncio.create_task(bus.listen(lambda _: None, on_up, down.set))
    try:
        await asyncio.wait_for(up.wait(), 5)
        proxy.silence()
        # Two ping intervals to notice, with room for a loaded machine.
        await asyncio.wait_for(down.wait(), 5)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await client.aclose()
        await proxy.cut()
