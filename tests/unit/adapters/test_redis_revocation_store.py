"""RedisRevocationStore specifics: expiring keys, prefixes, and failing closed."""

import time
import uuid
from collections.abc import AsyncIterator

import pytest
import structlog
from redis.asyncio import Redis
from structlog.testing import LogCapture

from adapters.redis import revocation_store as module
from adapters.redis.client import create_redis_client
from adapters.redis.revocation_store import RedisRevocationStore
from application.errors import CacheUnavailableError

# Nothing listens on port 1; the password must never reach a log line.
DEAD_URL = "redis://:hunter2-secret@127.0.0.1:1/0"


@pytest.fixture
async def client(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    client = create_redis_client(redis_server_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_each_revocation_is_a_key_that_expires_with_the_ttl(
    client: Redis, redis_prefix: str
) -> None:
    store = RedisRevocationStore(client, redis_prefix)
    await store.revoke_sessions([uuid.uuid4() for _ in range(3)], ttl_seconds=900)
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    assert len(keys) == 3
    for key in keys:
        assert 890 <= await client.ttl(key) <= 900  # never a key without expiry


async def test_stores_with_different_prefixes_do_not_share_revocations(
    client: Redis, redis_prefix: str
) -> None:
    session_id = uuid.uuid4()
    await RedisRevocationStore(client, redis_prefix + "a:").revoke_sessions(
        [session_id], ttl_seconds=60
    )
    other = RedisRevocationStore(client, redis_prefix + "b:")
    assert await other.is_session_revoked(session_id) is False


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    # Patch the module's logger rather than rely on global structlog config, which the
    # app may have cached.
    capture = LogCapture()
    monkeypatch.setattr(
        module, "log", structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])
    )
    return capture


@pytest.fixture
async def dead_store() -> AsyncIterator[RedisRevocationStore]:
    client = create_redis_client(DEAD_URL, socket_timeout=0.5, connect_timeout=0.5)
    yield RedisRevocationStore(client, "hexahub-test:")
    await client.aclose()


async def test_an_unreachable_redis_fails_closed_with_a_logged_warning(
    dead_store: RedisRevocationStore, captured: LogCapture
) -> None:
    with pytest.raises(CacheUnavailableError):
        await dead_store.is_session_revoked(uuid.uuid4())
    with pytest.raises(CacheUnavailableError):
        await dead_store.revoke_sessions([uuid.uuid4()], ttl_seconds=60)
    with pytest.raises(CacheUnavailableError):
        await dead_store.ping()

    assert [(e["log_level"], e["event"], e["operation"]) for e in captured.entries] == [
        ("warning", "revocation_store_unavailable", "is_session_revoked"),
        ("warning", "revocation_store_unavailable", "revoke_sessions"),
        ("warning", "revocation_store_unavailable", "ping"),
    ]
    assert "hunter2" not in repr(captured.entries)


async def test_an_unreachable_redis_is_reported_within_about_the_timeouts() -> None:
    # 10.255.255.1 is unroutable: the connect hangs until connect_timeout (or fails fast).
    client = create_redis_client("redis://10.255.255.1:6379/0", connect_timeout=0.3)
    store = RedisRevocationStore(client)
    started = time.monotonic()
    try:
        with pytest.raises(CacheUnavailableError):
            await store.ping()
    finally:
        await client.aclose()
    assert time.monotonic() - started < 2
