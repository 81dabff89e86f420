"""The `RateLimiter` contract, run against the in-memory limiter, real Redis, and the
fallback limiter the service runs with Redis (Redis answering, and Redis down).

All are GCRA on integer microseconds, so the same exact numbers are expected of each.
The Redis parameters carry the `redis` mark themselves (see test_revocation_store.py).
The Redis-only checks (expiring keys, prefixes, failing closed) close the module.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import structlog
from redis.asyncio import Redis
from structlog.testing import LogCapture

from adapters.memory.clock import FixedClock
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.redis import rate_limiter as redis_module
from adapters.redis.client import create_redis_client
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.resilience.circuit_breaker import CircuitBreaker
from adapters.resilience.fallback_rate_limiter import FallbackRateLimiter
from application.errors import CacheUnavailableError
from application.ports.rate_limiter import RateLimitDecision, RateLimiter


@dataclass
class Subject:
    limiter: RateLimiter
    # Lets `seconds` pass for the limiter: the FixedClock moves, Redis is waited for.
    elapse: Callable[[float], Awaitable[None]]


# Nothing listens on port 1: the fallback's primary is a Redis that is down.
UNREACHABLE_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("fallback", marks=pytest.mark.redis),
        "fallback-redis-down",
    ]
)
def backend(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    if request.param in ("redis", "fallback"):
        return (
            request.param,
            request.getfixturevalue("redis_server_url"),
            request.getfixturevalue("redis_prefix"),
        )
    if request.param == "fallback-redis-down":
        return ("fallback-redis-down", UNREACHABLE_URL, "hexahub-test:")
    return ("memory", "", "")


async def _delete_prefixed(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def subject(backend: tuple[str, str, str]) -> AsyncIterator[Subject]:
    kind, url, prefix = backend
    if kind == "memory":
        clock = FixedClock()

        async def advance(seconds: float) -> None:
            clock.advance(seconds=seconds)

        yield Subject(InMemoryRateLimiter(clock), advance)
        return

    client = create_redis_client(url)
    try:
        if kind == "fallback-redis-down":
            clock = FixedClock()

            async def advance_fallback(seconds: float) -> None:
                clock.advance(seconds=seconds)

            breaker = CircuitBreaker("redis", unavailable=CacheUnavailableError)
            primary = RedisRateLimiter(client, prefix, breaker=breaker)
            yield Subject(
                FallbackRateLimiter(primary, InMemoryRateLimiter(clock)), advance_fallback
            )
        elif kind == "fallback":
            fallback = InMemoryRateLimiter(FixedClock())
            limiter = FallbackRateLimiter(RedisRateLimiter(client, prefix), fallback)
            yield Subject(limiter, asyncio.sleep)
        else:
            yield Subject(RedisRateLimiter(client, prefix), asyncio.sleep)
    finally:
        if kind != "fallback-redis-down":
            await _delete_prefixed(client, prefix)
        await client.aclose()


def _key() -> str:
    return f"login:{uuid.uuid4().hex}"


async def test_the_first_limit_hits_are_allowed_and_the_next_refused(subject: Subject) -> None:
    key = _key()
    decisions = [await subject.limiter.hit(key, limit=10, window_seconds=60) for _ in range(11)]

    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert [d.remaining for d in decisions] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    assert {d.limit for d in decisions} == {10}
    assert {d.retry_after_seconds for d in decisions[:10]} == {0}
    # One hit takes 6 s of budget (60 s / 10); the budget is whole again that long after
    # the last allowed hit, and one more hit fits once the first hit's share is back.
    assert decisions[0].reset_seconds == 6
    assert decisions[9].reset_seconds == 60
    assert decisions[10] == RateLimitDecision(
        allowed=False, limit=10, remaining=0, reset_seconds=60, retry_after_seconds=6
    )


async def test_a_refusal_does_not_consume_budget(subject: Subject) -> None:
    key = _key()
    for _ in range(2):
        await subject.limiter.hit(key, limit=2, window_seconds=60)
    refusals = [await subject.limiter.hit(key, limit=2, window_seconds=60) for _ in range(5)]
    assert {(d.allowed, d.reset_seconds, d.retry_after_seconds) for d in refusals} == {
        (False, 60, 30)
    }


async def test_the_budget_refills_over_time(subject: Subject) -> None:
    # 2 per second: one hit's share (0.5 s) comes back at a time, all of it within 1 s.
    key = _key()
    assert (await subject.limiter.hit(key, limit=2, window_seconds=1)).allowed
    assert (await subject.limiter.hit(key, limit=2, window_seconds=1)).allowed
    refused = await subject.limiter.hit(key, limit=2, window_seconds=1)
    assert not refused.allowed
    assert refused.retry_after_seconds == 1  # 0.5 s, rounded up

    await subject.elapse(0.6)
    partial = await subject.limiter.hit(key, limit=2, window_seconds=1)
    assert partial.allowed
    assert partial.remaining == 0
    assert not (await subject.limiter.hit(key, limit=2, window_seconds=1)).allowed

    await subject.elapse(1.1)
    whole = await subject.limiter.hit(key, limit=2, window_seconds=1)
    assert (whole.allowed, whole.remaining) == (True, 1)


async def test_concurrent_hits_are_each_counted_once(subject: Subject) -> None:
    key = _key()
    decisions = await asyncio.gather(
        *(subject.limiter.hit(key, limit=10, window_seconds=60) for _ in range(50))
    )
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))
    assert all(d.retry_after_seconds >= 1 for d in decisions if not d.allowed)


async def test_keys_are_independent(subject: Subject) -> None:
    busy, quiet = _key(), _key()
    for _ in range(3):
        await subject.limiter.hit(busy, limit=3, window_seconds=60)
    assert not (await subject.limiter.hit(busy, limit=3, window_seconds=60)).allowed
    fresh = await subject.limiter.hit(quiet, limit=3, window_seconds=60)
    assert (fresh.allowed, fresh.remaining) == (True, 2)


async def test_reset_gives_back_the_whole_budget(subject: Subject) -> None:
    key, other = _key(), _key()
    for _ in range(3):
        await subject.limiter.hit(key, limit=3, window_seconds=60)
        await subject.limiter.hit(other, limit=3, window_seconds=60)
    await subject.limiter.reset(key)

    after = await subject.limiter.hit(key, limit=3, window_seconds=60)
    assert (after.allowed, after.remaining) == (True, 2)
    assert not (await subject.limiter.hit(other, limit=3, window_seconds=60)).allowed


async def test_resetting_an_unknown_key_is_harmless(subject: Subject) -> None:
    await subject.limiter.reset(_key())


async def test_a_limit_of_one_allows_one_hit_per_window(subject: Subject) -> None:
    key = _key()
    first = await subject.limiter.hit(key, limit=1, window_seconds=30)
    second = await subject.limiter.hit(key, limit=1, window_seconds=30)
    assert (first.allowed, first.remaining, first.reset_seconds) == (True, 0, 30)
    assert (second.allowed, second.retry_after_seconds) == (False, 30)


@pytest.mark.parametrize(
    ("limit", "window_seconds", "message"),
    [(0, 60, "limit"), (-1, 60, "limit"), (10, 0, "window_seconds")],
)
async def test_a_budget_below_one_is_refused(
    subject: Subject, limit: int, window_seconds: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await subject.limiter.hit(_key(), limit=limit, window_seconds=window_seconds)


# --- Redis only -----------------------------------------------------------------------

# Nothing listens on port 1; the password must never reach a log line.
DEAD_URL = "redis://:hunter2-secret@127.0.0.1:1/0"


@pytest.fixture
async def redis_client(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    client = create_redis_client(redis_server_url)
    yield client
    await _delete_prefixed(client, redis_prefix)
    await client.aclose()


async def test_redis_keys_are_prefixed_and_expire_when_the_budget_is_whole(
    redis_client: Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, redis_prefix)
    for _ in range(3):
        await limiter.hit("login:alice", limit=10, window_seconds=60)
    keys = [key async for key in redis_client.scan_iter(match=f"{redis_prefix}*")]
    assert keys == [f"{redis_prefix}rate-limit:login:alice".encode()]
    assert 17_000 <= await redis_client.pttl(keys[0]) <= 18_000  # 3 hits x 6 s, never -1


async def test_redis_limiters_sharing_a_prefix_share_budgets_and_others_do_not(
    redis_client: Redis, redis_prefix: str
) -> None:
    first, second = (RedisRateLimiter(redis_client, redis_prefix) for _ in range(2))
    other = RedisRateLimiter(redis_client, redis_prefix + "other:")
    assert (await first.hit("k", limit=2, window_seconds=60)).allowed
    assert (await second.hit("k", limit=2, window_seconds=60)).allowed
    assert not (await first.hit("k", limit=2, window_seconds=60)).allowed
    assert (await other.hit("k", limit=2, window_seconds=60)).allowed


async def test_redis_reloads_the_script_after_a_flush(
    redis_client: Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, redis_prefix)
    assert (await limiter.hit("k", limit=2, window_seconds=60)).allowed
    await redis_client.script_flush()  # as after a server restart or failover
    decision = await limiter.hit("k", limit=2, window_seconds=60)
    assert (decision.allowed, decision.remaining) == (True, 0)


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    capture = LogCapture()
    monkeypatch.setattr(
        redis_module, "log", structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])
    )
    return capture


async def test_an_unreachable_redis_fails_closed_with_a_logged_warning(
    captured: LogCapture,
) -> None:
    client = create_redis_client(DEAD_URL, socket_timeout=0.5, connect_timeout=0.5)
    limiter = RedisRateLimiter(client, "hexahub-test:")
    try:
        with pytest.raises(CacheUnavailableError):
            await limiter.hit("k", limit=5, window_seconds=60)
        with pytest.raises(CacheUnavailableError):
            await limiter.reset("k")
    finally:
        await client.aclose()

    assert [(e["log_level"], e["event"], e["operation"]) for e in captured.entries] == [
        ("warning", "rate_limiter_unavailable", "hit"),
        ("warning", "rate_limiter_unavailable", "reset"),
    ]
    assert "hunter2" not in repr(captured.entries)
