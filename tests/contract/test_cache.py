"""The `Cache` contract, run against every adapter and composition: the in-process
cache, the same behind `TieredCache` alone, the in-process cache of processes sharing a
SQLite file (`SiblingCache`, behind `TieredCache` as the service runs it), real Redis,
and the two tiers together.

The Redis parameters carry the `redis` mark themselves (see test_revocation_store.py).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.memory.cache import InProcessCache
from adapters.memory.sibling_cache import SharedCounter, SiblingCache
from adapters.redis.cache import RedisCache
from adapters.redis.client import create_redis_client
from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.tiered_cache import TieredCache
from application.ports.cache import Cache


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Subject:
    cache: Cache
    elapse: Callable[[float], Awaitable[None]]
    keeps_amended: bool = True
    """False for Redis alone: shared by every instance, it keeps no amended copy."""


KINDS = [
    "in-process",
    "tiered-local",
    "tiered-siblings",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("tiered-redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    # Sync: an async fixture cannot ask for the (async) Redis fixtures by name.
    if "redis" in request.param:
        url = request.getfixturevalue("redis_server_url")
        return request.param, url, request.getfixturevalue("redis_prefix")
    return request.param, str(tmp_path / "hexahub.db-cache-generation"), ""


@pytest.fixture
async def subject(backend: tuple[str, str, str]) -> AsyncIterator[Subject]:
    kind, url, prefix = backend
    if kind in ("in-process", "tiered-local", "tiered-siblings"):
        ticker = Ticker()

        async def advance(seconds: float) -> None:
            ticker.now += seconds

        if kind == "tiered-siblings":
            counter = SharedCounter(Path(url))
            yield Subject(TieredCache(SiblingCache(counter, monotonic=ticker)), advance)
            counter.close()
            return
        local = InProcessCache(monotonic=ticker)
        yield Subject(local if kind == "in-process" else TieredCache(local), advance)
        return

    client = create_redis_client(url)
    remote = RedisCache(client, prefix=prefix)
    listener = None
    try:
        if kind == "redis":
            yield Subject(remote, asyncio.sleep, keeps_amended=False)
        else:
            bus = RedisInvalidationBus(client, channel=f"{prefix}cache:invalidate")
            tiered = TieredCache(InProcessCache(), remote, bus)
            listener = asyncio.create_task(tiered.listen())
            await wait_for(lambda: tiered.local_tier_live)
            yield Subject(tiered, asyncio.sleep)
    finally:
        if listener is not None:
            listener.cancel()
            await asyncio.wait({listener})
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached within 5 s")


async def store(cache: Cache, key: str, value: bytes, ttl: float = 60) -> None:
    entry = await cache.get(key)
    await cache.set(key, value, ttl_seconds=ttl, stamp=entry.stamp)


async def test_an_unknown_key_is_a_miss(subject: Subject) -> None:
    assert (await subject.cache.get("user:nobody")).value is None


async def test_a_stored_value_is_read_back(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    assert (await subject.cache.get("user:1")).value == b"ada"
    assert (await subject.cache.get("user:2")).value is None


async def test_an_invalidated_key_is_a_miss(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    await store(subject.cache, "user:2", b"bob")
    await subject.cache.invalidate(["user:1"])
    assert (await subject.cache.get("user:1")).value is None
    assert (await subject.cache.get("user:2")).value == b"bob"


async def test_a_load_that_raced_an_invalidation_is_not_stored(subject: Subject) -> None:
    # A reader misses, loads the old row; meanwhile a write commits and invalidates.
    before_write = await subject.cache.get("user:1")
    await subject.cache.invalidate(["user:1"])
    await subject.cache.set("user:1", b"old row", ttl_seconds=60, stamp=before_write.stamp)
    assert (await subject.cache.get("user:1")).value is None


async def test_a_load_after_the_invalidation_is_stored(subject: Subject) -> None:
    await subject.cache.invalidate(["user:1"])
    await store(subject.cache, "user:1", b"new row")
    assert (await subject.cache.get("user:1")).value == b"new row"


async def test_an_entry_expires_after_its_ttl(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada", ttl=0.2)
    await subject.elapse(0.4)
    assert (await subject.cache.get("user:1")).value is None


async def test_invalidating_nothing_is_harmless(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    await subject.cache.invalidate([])
    assert (await subject.cache.get("user:1")).value == b"ada"


def exclaim(value: bytes) -> bytes:
    return value + b"!"


async def test_an_amended_value_is_served_as_rewritten_never_as_it_was(
    subject: Subject,
) -> None:
    await store(subject.cache, "user:1", b"ada")
    await store(subject.cache, "user:2", b"bob")
    await subject.cache.amend({"user:1": exclaim})
    amended = (await subject.cache.get("user:1")).value
    assert amended == (b"ada!" if subject.keeps_amended else None)
    assert (await subject.cache.get("user:2")).value == b"bob"


async def test_amending_a_key_not_held_stores_nothing(subject: Subject) -> None:
    rewritten: list[bytes] = []

    def note(value: bytes) -> bytes:
        rewritten.append(value)
        return value

    await subject.cache.amend({"user:1": note})
    assert (await subject.cache.get("user:1")).value is None
    assert rewritten == []


async def test_a_rewrite_that_gives_nothing_drops_the_key(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    await subject.cache.amend({"user:1": lambda _: None})
    assert (await subject.cache.get("user:1")).value is None


async def test_a_load_that_raced_an_amendment_is_not_stored(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    before_write = await subject.cache.get("user:1")
    await subject.cache.amend({"user:1": exclaim})
    await subject.cache.set("user:1", b"old row", ttl_seconds=60, stamp=before_write.stamp)
    assert (await subject.cache.get("user:1")).value in (b"ada!", None)


async def test_an_invalidation_after_an_amendment_drops_it(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    await subject.cache.amend({"user:1": exclaim})
    await subject.cache.invalidate(["user:1"])
    assert (await subject.cache.get("user:1")).value is None


async def test_a_rewrite_that_fails_drops_its_key_and_spares_the_others(subject: Subject) -> None:
    await store(subject.cache, "user:1", b"ada")
    await store(subject.cache, "user:2", b"bob")

    def broken(_: bytes) -> bytes:
        raise ValueError("unreadable")

    await subject.cache.amend({"user:1": broken, "user:2": exclaim})
    assert (await subject.cache.get("user:1")).value is None
    assert (await subject.cache.get("user:2")).value == (b"bob!" if subject.keeps_amended else None)
