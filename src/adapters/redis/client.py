from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff


def create_redis_client(
    url: str,
    *,
    socket_timeout: float = 2,
    connect_timeout: float = 2,
    health_check_interval: int = 30,
) -> Redis:
    """A `redis.asyncio.Redis` for `url`, tuned to fail fast. Close it with `aclose()`.

    The revocation check sits on every authenticated request and fails closed, so a dead
    Redis must cost about one timeout, not redis-py's default of 5 s per attempt times
    three retries. One quick retry is kept: it absorbs a pooled connection that went
    stale when Redis restarted. `health_check_interval` pings idle connections before
    reuse, for the same reason. No connection is opened here.
    """
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        health_check_interval=health_check_interval,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
    )
