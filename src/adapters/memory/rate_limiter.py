from datetime import UTC, datetime, timedelta

from application.ports.clock import Clock
from application.ports.rate_limiter import RateLimitDecision, RateLimiter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = 1_000_000
_PURGE_EVERY = 1024


class InMemoryRateLimiter(RateLimiter):
    """GCRA per key on the `Clock`, in one process's memory.

    The twin of `RedisRateLimiter`, with the same integer-microsecond arithmetic, so both
    give identical decisions for identical times (the contract suite checks it). `hit`
    never awaits, so under asyncio each call runs whole: concurrent hits are each counted
    once. Keys whose budget is whole again are dropped now and then, as Redis expiry
    would. Never unavailable.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Theoretical arrival time per key: when its budget is whole again (µs since epoch).
        self._tats: dict[str, int] = {}
        self._hits = 0

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        interval = _interval_micros(limit, window_seconds)
        burst = (limit - 1) * interval
        now = (self._clock.now() - _EPOCH) // timedelta(microseconds=1)
        self._maybe_purge(now)
        tat = max(self._tats.get(key, now), now)
        if tat - now > burst:
            return RateLimitDecision(
                allowed=False,
                limit=limit,
                remaining=0,
                reset_seconds=_ceil_seconds(tat - now),
                retry_after_seconds=max(1, _ceil_seconds(tat - now - burst)),
            )
        new_tat = tat + interval
        self._tats[key] = new_tat
        return RateLimitDecision(
            allowed=True,
            limit=limit,
            remaining=(limit * interval - (new_tat - now)) // interval,
            reset_seconds=_ceil_seconds(new_tat - now),
            retry_after_seconds=0,
        )

    async def reset(self, key: str) -> None:
        self._tats.pop(key, None)

    def _maybe_purge(self, now: int) -> None:
        # Amortised: a key whose TAT has passed is indistinguishable from a fresh one.
        self._hits += 1
        if self._hits % _PURGE_EVERY:
            return
        for key in [k for k, tat in self._tats.items() if tat <= now]:
            del self._tats[key]


def _interval_micros(limit: int, window_seconds: int) -> int:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if window_seconds < 1:
        raise ValueError("window_seconds must be at least 1")
    return -(-window_seconds * _MICROS // limit)


def _ceil_seconds(micros: int) -> int:
    return -(-micros // _MICROS)
