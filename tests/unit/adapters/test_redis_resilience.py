"""The Redis adapters behind the Redis circuit breaker: idempotent commands are retried
after a dropped connection, the rate limiter's script never is, and an open circuit
stops calling Redis at all.

The "server" is a local socket that accepts each connection and drops it at once, so
every attempt to reach it can be counted."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import structlog
from redis.asyncio import Redis
from structlog.testing import LogCapture

from adapters.redis import rate_limiter as rate_limiter_module
from adapters.redis import revocation_store as revocation_module
from adapters.redis.client import create_redis_client
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.revocation_store import RedisRevocationStore
from adapters.resilience.circuit_breaker import BreakerState, CircuitBreaker
from application.errors import CacheUnavailableError


class DroppingServer:
    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._drop, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _drop(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[DroppingServer]:
    server = DroppingServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(server: DroppingServer) -> AsyncIterator[Redis]:
    assert server._server is not None
    port = server._server.sockets[0].getsockname()[1]
    client = create_redis_client(f"redis://127.0.0.1:{port}/0", connect_timeout=1)
    yield client
    await client.aclose()


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker(
        "redis", unavailable=CacheUnavailableError, failure_threshold=2, reset_timeout=60
    )


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    capture = LogCapture()
    logger = structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])
    monkeypatch.setattr(revocation_module, "log", logger)
    monkeypatch.setattr(rate_limiter_module, "log", logger)
    return capture


async def test_a_revocation_check_is_retried_after_a_dropped_connection(
    client: Redis, server: DroppingServer
) -> None:
    store = RedisRevocationStore(client, "t:")
    with pytest.raises(CacheUnavailableError):
        await store.is_session_revoked(uuid.uuid4())
    assert server.connections == 3  # EXISTS is a read: three attempts in all


async def test_a_rate_limit_hit_is_never_retried(client: Redis, server: DroppingServer) -> None:
    limiter = RedisRateLimiter(client, "t:")
    with pytest.raises(CacheUnavailableError):
        await limiter.hit("k", limit=5, window_seconds=60)
    # The script might have run before the connection broke: a second run would count
    # the hit twice.
    assert server.connections == 1
    with pytest.raises(CacheUnavailableError):
        await limiter.reset("k")  # a DELETE may run twice
    assert server.connections == 4


async def test_an_open_circuit_stops_calling_redis(
    client: Redis, server: DroppingServer, breaker: CircuitBreaker, captured: LogCapture
) -> None:
    store = RedisRevocationStore(client, "t:", breaker=breaker)
    limiter = RedisRateLimiter(client, "t:", breaker=breaker)
    with pytest.raises(CacheUnavailableError):
        await store.is_session_revoked(uuid.uuid4())
    with pytest.raises(CacheUnavailableError):
        await limiter.hit("k", limit=5, window_seconds=60)
    assert breaker.state is BreakerState.OPEN
    reached = server.connections

    for call in (
        store.is_session_revoked(uuid.uuid4()),
        store.revoke_sessions([uuid.uuid4()], ttl_seconds=60),
        store.ping(),
        limiter.hit("k", limit=5, window_seconds=60),
        limiter.reset("k"),
    ):
        with pytest.raises(CacheUnavailableError) as refused:
            await call
        assert 1 <= refused.value.retry_after <= 60
    assert server.connections == reached
    # Only the calls that reached Redis were logged: an outage does not flood the log.
    assert [e["event"] for e in captured.entries] == [
        "revocation_store_unavailable",
        "rate_limiter_unavailable",
    ]
