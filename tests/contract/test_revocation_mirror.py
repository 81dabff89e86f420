"""Each instance's mirror of the revoked sessions: a revocation on one instance is known
to every other by the time it returns, without a Redis round trip per question, and an
instance that starts (or whose feed comes back) learns what was revoked before."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from adapters.redis.client import create_redis_client
from adapters.redis.mirrored_revocation_store import MirroredRevocationStore
from adapters.redis.revocation_store import RedisRevocationStore
from tests.contract.test_revocation_store import mirrored, until, until_live

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    client = create_redis_client(redis_server_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def pair(
    client: Redis, redis_prefix: str
) -> AsyncIterator[tuple[MirroredRevocationStore, MirroredRevocationStore]]:
    """Two instances' mirrors, both live, over one Redis."""
    store = RedisRevocationStore(client, redis_prefix)
    async with (
        mirrored(client, store, redis_prefix) as a,
        mirrored(client, store, redis_prefix) as b,
    ):
        yield a, b


@pytest.fixture
def exists_calls(client: Redis, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """How many EXISTS `client` has sent, counted here: the server's own statistics are
    shared with every other test process."""
    sent = 0
    send = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        nonlocal sent
        sent += str(args[0]).upper() == "EXISTS"
        return await send(*args, **options)

    monkeypatch.setattr(client, "execute_command", counted)
    return lambda: sent


Pair = tuple[MirroredRevocationStore, MirroredRevocationStore]


async def test_a_revocation_on_one_instance_is_known_to_the_other_when_it_returns(
    pair: Pair,
) -> None:
    a, b = pair
    session = uuid.uuid4()
    assert await b.is_session_revoked(session) is False
    await a.revoke_sessions([session], ttl_seconds=60)
    assert await b.is_session_revoked(session) is True
    assert await b.is_session_revoked(uuid.uuid4()) is False


async def test_a_live_mirror_answers_without_asking_redis(
    client: Redis, redis_prefix: str, exists_calls: Callable[[], int]
) -> None:
    store = RedisRevocationStore(client, redis_prefix)
    async with mirrored(client, store, redis_prefix) as mirror:
        await mirror.revoke_sessions([uuid.uuid4()], ttl_seconds=60)
        before = exists_calls()
        for _ in range(20):
            await mirror.is_session_revoked(uuid.uuid4())
        assert exists_calls() == before
        # The same questions without the mirror each cost a round trip.
        for _ in range(20):
            await store.is_session_revoked(uuid.uuid4())
        assert exists_calls() == before + 20


async def test_an_instance_that_starts_later_knows_earlier_revocations(
    client: Redis, redis_prefix: str
) -> None:
    store = RedisRevocationStore(client, redis_prefix)
    earlier, expired = uuid.uuid4(), uuid.uuid4()
    await store.revoke_sessions([earlier], ttl_seconds=60)
    await store.revoke_sessions([expired], ttl_seconds=1)
    await asyncio.sleep(1.2)
    async with mirrored(client, store, redis_prefix) as late:
        assert await late.is_session_revoked(earlier) is True
        assert await late.is_session_revoked(expired) is False


async def test_a_revocation_made_while_the_feeds_were_lost_is_known_everywhere(
    client: Redis, pair: Pair
) -> None:
    a, b = pair
    # Cut every subscriber off. Once a mirror knows its feed is lost it asks Redis, and
    # after it has subscribed again it reloads what it missed.
    await client.client_kill_filter(_type="pubsub")
    await until(lambda: not (a.live or b.live))
    meanwhile = uuid.uuid4()
    await a.revoke_sessions([meanwhile], ttl_seconds=60)
    assert await b.is_session_revoked(meanwhile) is True
    await until_live(a, b)
    assert await a.is_session_revoked(meanwhile) is True
    assert await b.is_session_revoked(meanwhile) is True
