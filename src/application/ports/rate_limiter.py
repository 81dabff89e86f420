from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the budget is whole again."""
    retry_after_seconds: int
    """Seconds until one more request would be allowed (0 when allowed)."""


class RateLimiter(Protocol):
    """Counts hits against a budget of `limit` per `window_seconds`, per key.

    Atomic: concurrent hits on one key are each counted once, also across instances
    sharing a backend. Raises `CacheUnavailableError` when its store cannot answer.
    """

    @abstractmethod
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision: ...

    @abstractmethod
    async def reset(self, key: str) -> None:
        """Forget a key's hits (an administrator lifting a limit)."""
