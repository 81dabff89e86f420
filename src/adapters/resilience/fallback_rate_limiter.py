"""Rate limits that survive the shared store going away."""

import structlog

from application.errors import CacheUnavailableError
from application.ports.rate_limiter import RateLimitDecision, RateLimiter

log = structlog.get_logger()


class FallbackRateLimiter(RateLimiter):
    """The shared `primary` (Redis) while it answers; the in-process `fallback` while it
    cannot, so an outage neither lifts every limit (failing open) nor refuses every
    request (failing closed).

    While degraded each instance counts alone, so a client spreading its requests over
    N instances gets up to N budgets; brute-force defences that live in the database
    (lockout) are untouched. Every call tries the primary first: behind a circuit
    breaker that costs nothing while the circuit is open, and the first call after
    Redis answers again switches back. Each switch is logged once.
    """

    def __init__(self, primary: RateLimiter, fallback: RateLimiter) -> None:
        self._primary = primary
        self._fallback = fallback
        self._degraded = False

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        try:
            decision = await self._primary.hit(key, limit=limit, window_seconds=window_seconds)
        except CacheUnavailableError:
            self._switch(degraded=True)
            return await self._fallback.hit(key, limit=limit, window_seconds=window_seconds)
        self._switch(degraded=False)
        return decision

    async def reset(self, key: str) -> None:
        """Both budgets are forgotten. With the primary down its key cannot be deleted,
        but it expires by itself once its budget is whole, and the in-process budget,
        the one in force meanwhile, is reset."""
        await self._fallback.reset(key)
        try:
            await self._primary.reset(key)
        except CacheUnavailableError:
            self._switch(degraded=True)
            return
        self._switch(degraded=False)

    def _switch(self, *, degraded: bool) -> None:
        if degraded == self._degraded:
            return
        self._degraded = degraded
        if degraded:
            log.warning("rate_limiter_fallback_engaged", fallback="in_process")
        else:
            log.info("rate_limiter_fallback_ended")
