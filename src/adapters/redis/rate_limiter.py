"""GCRA rate limiting in Redis: one key per limited subject, one script round trip a hit."""

from functools import partial

import structlog
from redis.asyncio import Redis

from adapters.redis.client import call
from adapters.resilience.circuit_breaker import CircuitBreaker
from application.errors import CacheUnavailableError
from application.ports.rate_limiter import RateLimitDecision, RateLimiter

log = structlog.get_logger()

_MICROS = 1_000_000

# GCRA (the generic cell rate algorithm, ITU-T I.371): the only state is the theoretical
# arrival time (TAT), the instant at which the key's budget would be whole again. Each
# allowed hit pushes it `interval` = window / limit further; a hit is refused while the
# TAT lies more than `burst` = (limit - 1) * interval ahead, so exactly `limit` hits fit
# at once whatever rounding `interval` took. All arithmetic is in integer microseconds,
# exact in Lua's doubles (below 2^53), and the time is the server's own (TIME), so
# instances with skewed clocks share one timeline. Returns {allowed, remaining, reset_us,
# retry_us}. A refusal writes nothing; an allowed hit makes the key expire when its
# budget is whole again, which is when forgetting it changes nothing.
_GCRA = """
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = (limit - 1) * interval
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
if tat - now > burst then
  return {0, 0, tat - now, tat - now - burst}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat),
           'PX', math.ceil((new_tat - now) / 1000))
local remaining = math.floor((limit * interval - (new_tat - now)) / interval)
return {1, remaining, new_tat - now, 0}
"""


class RedisRateLimiter(RateLimiter):
    """Hits counted by GCRA in `<prefix>rate-limit:<key>`, shared by every instance.

    Atomic across instances: the whole read-decide-write runs in one Lua script. The
    script is sent once per server (redis-py's `register_script` reloads it on NOSCRIPT)
    and then run by EVALSHA, one round trip per hit. The client is owned by the caller.

    Calls go through `breaker` when given. A hit is never retried: the script may have
    run before the connection broke, and running it again would count the hit twice.
    `reset` (a DELETE) is retried after a transient connection error.
    """

    def __init__(
        self, client: Redis, prefix: str = "hexahub:", *, breaker: CircuitBreaker | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker
        self._gcra = client.register_script(_GCRA)

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        interval = _interval_micros(limit, window_seconds)
        reply = await call(
            partial(self._gcra, keys=[self._key(key)], args=[limit, interval]),
            breaker=self._breaker,
            idempotent=False,
            unavailable=partial(self._unavailable, "hit"),
        )
        allowed, remaining, reset_us, retry_us = (int(value) for value in reply)
        return RateLimitDecision(
            allowed=bool(allowed),
            limit=limit,
            remaining=remaining,
            reset_seconds=_ceil_seconds(reset_us),
            retry_after_seconds=0 if allowed else max(1, _ceil_seconds(retry_us)),
        )

    async def reset(self, key: str) -> None:
        await call(
            partial(self._client.delete, self._key(key)),
            breaker=self._breaker,
            idempotent=True,
            unavailable=partial(self._unavailable, "reset"),
        )

    def _key(self, key: str) -> str:
        return f"{self._prefix}rate-limit:{key}"

    @staticmethod
    def _unavailable(operation: str, error: BaseException) -> CacheUnavailableError:
        # The exception type only: replies and the connection URL stay out of the logs.
        log.warning("rate_limiter_unavailable", operation=operation, error=type(error).__name__)
        return CacheUnavailableError()


def _interval_micros(limit: int, window_seconds: int) -> int:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if window_seconds < 1:
        raise ValueError("window_seconds must be at least 1")
    # Rounded up: `limit` hits never refill faster than one window.
    return -(-window_seconds * _MICROS // limit)


def _ceil_seconds(micros: int) -> int:
    return -(-micros // _MICROS)
