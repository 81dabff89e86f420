"""The `RevocationStore` contract, run against the in-memory store, real Redis, and
real Redis behind this instance's mirror (what a server with Redis uses).

The Redis parameter carries the `redis` mark itself: pytest only sees the fixtures a
parametrized fixture asks for at run time, so conftest's name-based marking cannot.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from adapters.memory.clock import FixedClock
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.redis.client import create_redis_client
from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.redis.mirrored_revocation_store import MirroredRevocationStore
from adapters.redis.revocation_store import RedisRevocationStore
from application.ports.revocation_store import RevocationStore


@dataclass
class Subject:
    store: RevocationStore
    # Lets `seconds` pass for the store: the FixedClock moves, Redis is waited for.
    elapse: Callable[[float], Awaitable[None]]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("mirrored", marks=pytest.mark.redis),
    ]
)
def backend(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    if request.param in ("redis", "mirrored"):
        return (
            request.param,
            request.getfixturevalue("redis_server_url"),
            request.getfixturevalue("redis_prefix"),
        )
    return ("memory", "", "")


@pytest.fixture
async def subject(backend: tuple[str, str, str]) -> AsyncIterator[Subject]:
    kind, url, prefix = backend
    if kind == "memory":
        clock = FixedClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds=seconds)

        yield Subject(InMemoryRevocationStore(clock), advance)
        return

    client = create_redis_client(url)
    try:
        store = RedisRevocationStore(client, prefix)
        if kind == "redis":
            yield Subject(store, asyncio.sleep)
        else:
            async with mirrored(client, store, prefix) as mirror:
                yield Subject(mirror, asyncio.sleep)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@asynccontextmanager
async def mirrored(
    client: Redis, store: RedisRevocationStore, prefix: str
) -> AsyncIterator[MirroredRevocationStore]:
    """`store` behind a mirror whose feed is listening (and loaded) on return."""
    mirror = MirroredRevocationStore(
        store, RedisInvalidationBus(client, channel=f"{prefix}revocations")
    )
    listening = asyncio.create_task(mirror.listen())
    try:
        await until_live(mirror)
        yield mirror
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def until(condition: Callable[[], bool]) -> None:
    """Until `condition` holds (at most 5 s)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def until_live(*mirrors: MirroredRevocationStore) -> None:
    """Until every mirror answers from memory."""
    await until(lambda: all(m.live for m in mirrors))


async def test_a_session_never_revoked_is_not_revoked(subject: Subject) -> None:
    assert await subject.store.is_session_revoked(uuid.uuid4()) is False


async def test_revoked_sessions_are_reported_and_others_are_not(subject: Subject) -> None:
    revoked = [uuid.uuid4() for _ in range(3)]
    untouched = uuid.uuid4()
    await subject.store.revoke_sessions(revoked, ttl_seconds=60)
    for session_id in revoked:
        assert await subject.store.is_session_revoked(session_id) is True
    assert await subject.store.is_session_revoked(untouched) is False


async def test_revoking_twice_is_harmless(subject: Subject) -> None:
    session_id = uuid.uuid4()
    await subject.store.revoke_sessions([session_id], ttl_seconds=60)
    await subject.store.revoke_sessions([session_id], ttl_seconds=60)
    assert await subject.store.is_session_revoked(session_id) is True


async def test_revoking_nothing_is_a_no_op(subject: Subject) -> None:
    await subject.store.revoke_sessions([], ttl_seconds=60)
    assert await subject.store.is_session_revoked(uuid.uuid4()) is False


async def test_a_revocation_is_forgotten_after_its_ttl(subject: Subject) -> None:
    short, long = uuid.uuid4(), uuid.uuid4()
    await subject.store.revoke_sessions([short], ttl_seconds=1)
    await subject.store.revoke_sessions([long], ttl_seconds=60)
    await subject.elapse(1.2)
    assert await subject.store.is_session_revoked(short) is False
    assert await subject.store.is_session_revoked(long) is True


async def test_a_second_revocation_restarts_the_ttl(subject: Subject) -> None:
    session_id = uuid.uuid4()
    await subject.store.revoke_sessions([session_id], ttl_seconds=1)
    await subject.store.revoke_sessions([session_id], ttl_seconds=60)
    await subject.elapse(1.2)
    assert await subject.store.is_session_revoked(session_id) is True


async def test_a_ttl_below_one_second_is_refused(subject: Subject) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        await subject.store.revoke_sessions([uuid.uuid4()], ttl_seconds=0)


async def test_ping_succeeds_when_the_store_is_up(subject: Subject) -> None:
    await subject.store.ping()  # raises CacheUnavailableError when down
