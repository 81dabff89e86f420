"""Retries with exponential backoff and full jitter, for idempotent operations only.

A read, a delete or a SET of the same value may run twice without harm; an INCR, an
insert or anything inside a transaction may not, and is never given to this helper.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def retry_idempotent(
    operation: Callable[[], Awaitable[T]],
    *,
    transient: tuple[type[BaseException], ...],
    attempts: int = 3,
    base_delay: float = 0.02,
    max_delay: float = 0.2,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `operation`, again after a `transient` error, up to `attempts` times in all.
    Delays grow as base * 2**n, capped, each drawn uniformly below its bound (AWS "full
    jitter"), so instances that failed together do not retry in step. The last error
    propagates; anything not `transient` propagates at once."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts - 1):
        try:
            return await operation()
        except transient:
            delay = min(max_delay, base_delay * 2**attempt)
            await sleep(random.uniform(0, delay))  # noqa: S311 (jitter, not a secret)
    return await operation()
