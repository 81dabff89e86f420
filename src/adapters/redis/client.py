from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from adapters.resilience.circuit_breaker import CircuitBreaker
from adapters.resilience.retry import retry_idempotent
from application.errors import CacheUnavailableError

T = TypeVar("T")

# redis-py wraps most socket failures in RedisError, but a few (a refused TLS handshake,
# an asyncio timeout around a read) can surface raw.
UNAVAILABLE = (RedisError, OSError, TimeoutError)
# Worth another try: a refused or reset connection (a pooled connection gone stale when
# Redis restarted). Not a timeout: a server too slow once is slow again, and waiting
# out a second socket timeout only delays the caller's fallback.
TRANSIENT = (RedisConnectionError, ConnectionError)


def create_redis_client(
    url: str,
    *,
    socket_timeout: float = 2,
    connect_timeout: float = 2,
    health_check_interval: int = 30,
) -> Redis:
    """A `redis.asyncio.Redis` for `url`, tuned to fail fast. Close it with `aclose()`.

    A dead Redis must cost about one timeout, not redis-py's default of several
    attempts with backoff. redis-py's own retries are off: they would repeat every
    command, INCR and script runs included, which must never run twice. Callers retry
    idempotent commands themselves (`call`). `health_check_interval` pings idle
    connections before reuse, so a restarted server costs one reconnect, not an error.
    No connection is opened here.
    """
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=health_check_interval,
        retry=Retry(NoBackoff(), retries=0),
    )


async def call(
    operation: Callable[[], Awaitable[T]],
    *,
    breaker: CircuitBreaker | None,
    idempotent: bool,
    unavailable: Callable[[BaseException], CacheUnavailableError],
) -> T:
    """Run one Redis operation through `breaker` (refused at once while it is open).

    An idempotent operation (a read, a DELETE, a SET of a fixed value) is retried with
    backoff after a transient connection error; any other runs once. A failure leaves as
    `unavailable(error)`, which the breaker counts.
    """
    guard: AbstractAsyncContextManager[None] = (
        breaker.guard() if breaker is not None else nullcontext()
    )
    async with guard:
        try:
            if idempotent:
                return await retry_idempotent(operation, transient=TRANSIENT)
            return await operation()
        except UNAVAILABLE as error:
            raise unavailable(error) from error
        except RuntimeError as error:
            # redis-py's asyncio reader raises a bare RuntimeError ("handler is closed")
            # when Redis goes away in the middle of a command: an outage, not a bug.
            if "closed" not in str(error):
                raise
            raise unavailable(error) from error
