"""FallbackRateLimiter: limits keep holding while the shared store is down, and the
shared store takes over again by itself when it answers."""

import pytest
import structlog
from structlog.testing import LogCapture

from adapters.memory.clock import FixedClock
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.resilience import fallback_rate_limiter as module
from adapters.resilience.fallback_rate_limiter import FallbackRateLimiter
from application.errors import CacheUnavailableError, StorageUnavailableError
from application.ports.rate_limiter import RateLimitDecision, RateLimiter


class SharedStore(RateLimiter):
    """A stand-in for Redis that can go down and come back; counts what reached it."""

    def __init__(self, clock: FixedClock) -> None:
        self.inner = InMemoryRateLimiter(clock)
        self.down = False
        self.hits = 0

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        if self.down:
            raise CacheUnavailableError()
        self.hits += 1
        return await self.inner.hit(key, limit=limit, window_seconds=window_seconds)

    async def reset(self, key: str) -> None:
        if self.down:
            raise CacheUnavailableError()
        await self.inner.reset(key)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def shared(clock: FixedClock) -> SharedStore:
    return SharedStore(clock)


@pytest.fixture
def limiter(shared: SharedStore, clock: FixedClock) -> FallbackRateLimiter:
    return FallbackRateLimiter(shared, InMemoryRateLimiter(clock))


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    capture = LogCapture()
    monkeypatch.setattr(
        module, "log", structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])
    )
    return capture


async def allowed(limiter: RateLimiter, key: str, times: int, limit: int = 3) -> list[bool]:
    return [(await limiter.hit(key, limit=limit, window_seconds=60)).allowed for _ in range(times)]


async def test_while_the_store_answers_it_alone_decides(
    limiter: FallbackRateLimiter, shared: SharedStore
) -> None:
    assert await allowed(limiter, "k", 4) == [True, True, True, False]
    assert shared.hits == 4
    assert not limiter.degraded


async def test_while_the_store_is_down_limits_still_hold_in_process(
    limiter: FallbackRateLimiter, shared: SharedStore
) -> None:
    shared.down = True
    assert await allowed(limiter, "k", 4) == [True, True, True, False]
    assert limiter.degraded


async def test_the_store_takes_over_again_when_it_answers(
    limiter: FallbackRateLimiter, shared: SharedStore
) -> None:
    shared.down = True
    await allowed(limiter, "k", 3)
    shared.down = False
    # The shared budget is what counts again (untouched during the outage).
    assert await allowed(limiter, "k", 4) == [True, True, True, False]
    assert shared.hits == 4
    assert not limiter.degraded


async def test_each_switch_is_logged_once(
    limiter: FallbackRateLimiter, shared: SharedStore, captured: LogCapture
) -> None:
    shared.down = True
    await allowed(limiter, "k", 5)
    shared.down = False
    await allowed(limiter, "k", 5)
    shared.down = True
    await allowed(limiter, "other", 2)
    assert [(e["log_level"], e["event"]) for e in captured.entries] == [
        ("warning", "rate_limiter_fallback_engaged"),
        ("info", "rate_limiter_fallback_ended"),
        ("warning", "rate_limiter_fallback_engaged"),
    ]


async def test_reset_forgets_the_budget_in_force_even_with_the_store_down(
    limiter: FallbackRateLimiter, shared: SharedStore
) -> None:
    shared.down = True
    await allowed(limiter, "k", 3)
    await limiter.reset("k")
    assert await allowed(limiter, "k", 1) == [True]

    shared.down = False
    await allowed(limiter, "k", 3)
    await limiter.reset("k")
    assert await allowed(limiter, "k", 3) == [True, True, True]


async def test_errors_other_than_an_unavailable_store_are_not_hidden(clock: FixedClock) -> None:
    class Broken(InMemoryRateLimiter):
        async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
            raise StorageUnavailableError()

    limiter = FallbackRateLimiter(Broken(clock), InMemoryRateLimiter(clock))
    with pytest.raises(StorageUnavailableError):
        await limiter.hit("k", limit=1, window_seconds=1)
    healthy = FallbackRateLimiter(InMemoryRateLimiter(clock), InMemoryRateLimiter(clock))
    with pytest.raises(ValueError, match="limit"):
        await healthy.hit("k", limit=0, window_seconds=1)
