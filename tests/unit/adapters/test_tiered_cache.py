"""`TieredCache` when Redis or its invalidation feed fails, with fakes for both tiers'
remote parts (the real ones are in the contract and freshness suites)."""

import asyncio
import tracemalloc
import uuid
from collections.abc import Callable, Collection
from typing import Any

import pytest

from adapters.memory.cache import InProcessCache
from adapters.tiered_cache import TieredCache
from application.errors import CacheUnavailableError
from application.ports.cache import CacheEntry


class FakeRemote:
    """An in-process stand-in for RedisCache that can be switched off."""

    def __init__(self) -> None:
        self.store = InProcessCache()
        self.up = True
        self.invalidated: list[set[str]] = []

    async def get(self, key: str) -> CacheEntry:
        self._check()
        return await self.store.get(key)

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        self._check()
        await self.store.set(key, value, ttl_seconds=ttl_seconds, stamp=stamp)

    async def invalidate(self, keys: Collection[str]) -> None:
        self._check()
        self.invalidated.append(set(keys))
        await self.store.invalidate(keys)

    async def drop_all(self) -> None:
        self._check()
        self.store.clear()

    def _check(self) -> None:
        if not self.up:
            raise CacheUnavailableError()


class FakeBus:
    def __init__(self, remote: FakeRemote) -> None:
        self.remote = remote
        self.published: list[list[str]] = []

    async def publish(self, keys: Collection[str]) -> None:
        if not self.remote.up:
            raise CacheUnavailableError()
        self.published.append(sorted(keys))

    async def listen(self, on_keys: object, on_up: Any, on_down: object) -> None:
        await on_up(False)
        await asyncio.Event().wait()


Lookups = list[tuple[str, str, bool]]


@pytest.fixture
def parts() -> tuple[TieredCache, FakeRemote, FakeBus, Lookups]:
    remote = FakeRemote()
    bus = FakeBus(remote)
    lookups: Lookups = []
    tiered = TieredCache(
        InProcessCache(),
        remote,  # type: ignore[arg-type]
        bus,  # type: ignore[arg-type]
        on_lookup=lambda *args: lookups.append(args),
    )
    return tiered, remote, bus, lookups


async def fill(cache: TieredCache | FakeRemote, key: str, value: bytes) -> None:
    entry = await cache.get(key)
    await cache.set(key, value, ttl_seconds=60, stamp=entry.stamp)


async def test_the_local_tier_waits_for_the_invalidation_feed(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, _remote, _, lookups = parts
    await fill(tiered, "user:1", b"ada")
    await tiered.get("user:1")
    # Before the feed is up, every read goes to Redis: the local tier could miss news.
    assert [tier for _, tier, _ in lookups] == ["redis", "redis"]
    await tiered.feed_up()
    lookups.clear()
    await tiered.get("user:1")
    await tiered.get("user:1")
    assert lookups == [("user", "local", False), ("user", "redis", True), ("user", "local", True)]


async def test_a_dead_feed_turns_the_local_tier_off_and_empties_it(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, _, _lookups = parts
    await tiered.feed_up()
    await fill(tiered, "user:1", b"ada")
    tiered.feed_down()
    # Another instance changes the user while this one hears nothing.
    await remote.invalidate(["user:1"])
    assert (await tiered.get("user:1")).value is None


async def test_redis_down_reads_are_misses_and_nothing_fails(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, _, _ = parts
    await fill(tiered, "user:1", b"ada")
    remote.up = False
    entry = await tiered.get("user:1")
    assert entry.value is None
    await tiered.set("user:1", b"ada", ttl_seconds=60, stamp=entry.stamp)  # no error


async def test_invalidations_made_while_redis_is_down_go_out_when_it_returns(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, bus, _ = parts
    await tiered.feed_up()
    await fill(tiered, "user:1", b"old")
    remote.up = False
    tiered.feed_down()
    await tiered.invalidate(["user:1"])  # the write committed; Redis still holds "old"
    remote.up = True
    # Redis is back but the feed is not: the kept key is not read from Redis.
    assert (await tiered.get("user:1")).value is None
    assert remote.invalidated == [{"user:1"}]
    assert bus.published == [["user:1"]]
    assert (await remote.get("user:1")).value is None


async def test_the_feed_resuming_flushes_kept_invalidations_first(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, bus, _ = parts
    await fill(remote, "role:x", b"old")
    remote.up = False
    await tiered.invalidate(["role:x"])
    remote.up = True
    await tiered.feed_up()
    assert bus.published == [["role:x"]]
    assert (await tiered.get("role:x")).value is None


async def test_a_received_invalidation_drops_the_local_copy(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, _, _ = parts
    await tiered.feed_up()
    await fill(tiered, "user:1", b"ada")
    await remote.invalidate(["user:1"])  # another instance wrote...
    tiered.received(["user:1"])  # ...and told everyone
    assert (await tiered.get("user:1")).value is None


async def test_without_redis_the_local_tier_is_the_whole_cache() -> None:
    lookups: Lookups = []
    tiered = TieredCache(InProcessCache(), on_lookup=lambda *args: lookups.append(args))
    await fill(tiered, "user:1", b"ada")
    assert (await tiered.get("user:1")).value == b"ada"
    await tiered.invalidate(["user:1"])
    assert (await tiered.get("user:1")).value is None
    assert {tier for _, tier, _ in lookups} == {"local"}


async def test_the_in_process_tier_is_bounded() -> None:
    cache = InProcessCache(max_entries=2)
    for key in ("a", "b", "c"):
        await cache_set(cache, key)
    assert len(cache) == 2
    assert cache.get_now("a").value is None
    assert cache.get_now("c").value == b"c"


async def test_the_in_process_tier_caps_the_time_to_live() -> None:
    now = [0.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    cache = InProcessCache(ttl_seconds=30, monotonic=clock)
    await cache_set(cache, "a", ttl=600)
    now[0] = 31
    assert cache.get_now("a").value is None


async def test_forgotten_invalidations_never_let_an_older_read_in() -> None:
    cache = InProcessCache()
    stale = cache.get_now("a").stamp
    cache.clear()
    await cache_set(cache, "a", stamp=stale)
    assert cache.get_now("a").value is None


async def test_expired_entries_leave_as_new_ones_arrive() -> None:
    now = [0.0]
    cache = InProcessCache(monotonic=lambda: now[0])
    for key in ("a", "b"):
        await cache_set(cache, key, ttl=10)
    now[0] = 11
    await cache_set(cache, "c", ttl=10)
    assert len(cache) == 1  # not only once the entry bound is reached


async def test_a_forgotten_old_invalidation_still_refuses_a_read_from_before_it() -> None:
    now = [0.0]
    cache = InProcessCache(monotonic=lambda: now[0])
    stale = cache.get_now("a").stamp
    cache.invalidate_now(["a"])
    now[0] = 3600  # long after: the record for "a" is forgotten with the next write
    cache.invalidate_now(["b"])
    await cache_set(cache, "a", stamp=stale)
    assert cache.get_now("a").value is None
    await cache_set(cache, "a")  # a read made now is kept
    assert cache.get_now("a").value == b"a"


def test_invalidation_records_do_not_pile_up_under_steady_writes() -> None:
    now = [0.0]
    cache = InProcessCache(monotonic=lambda: now[0])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(60_000):  # 100 writes a second for ten minutes
            now[0] = n / 100
            cache.invalidate_now([f"user:{uuid.UUID(int=n)}"])
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A minute of records is 6,000 (about 1.3 MB); all of them would be 12 MB.
    assert grown < 3 * 2**20


async def cache_set(
    cache: InProcessCache, key: str, *, ttl: float = 60, stamp: str | None = None
) -> None:
    stamp = stamp if stamp is not None else cache.get_now(key).stamp
    await cache.set(key, key.encode(), ttl_seconds=ttl, stamp=stamp)


async def test_kept_invalidations_are_retried_without_waiting_for_another_write(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, bus, _ = parts
    await fill(remote, "user:1", b"old")
    listening = asyncio.create_task(tiered.listen(retry_every=0.01))
    try:
        remote.up = False
        await tiered.invalidate(["user:1"])
        assert tiered.pending == 1
        remote.up = True
        for _ in range(200):
            if tiered.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert tiered.pending == 0
        assert bus.published == [["user:1"]]
        assert (await remote.get("user:1")).value is None
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def test_a_changed_redis_server_loses_every_cached_copy(
    parts: tuple[TieredCache, FakeRemote, FakeBus, Lookups],
) -> None:
    tiered, remote, _, _ = parts
    # Values whose invalidation a restarted Redis may have lost.
    await fill(remote, "user:1", b"maybe stale")
    await tiered.feed_up(server_changed=False)
    assert (await tiered.get("user:1")).value == b"maybe stale"
    await tiered.feed_up(server_changed=True)
    assert (await tiered.get("user:1")).value is None
