"""Concurrent misses for one key cause one load: the others wait for its result."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class SingleFlight:
    """Per-process de-duplication of loads (a cache stampede after an expiry or an
    invalidation costs one database read per key, not one per waiting request).

    The load runs as its own task: a caller that gives up (a client that disconnected)
    does not cancel the load the others are waiting for.
    """

    def __init__(self) -> None:
        self._loads: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        task = self._loads.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._loads[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        result: T = await asyncio.shield(task)
        return result

    @property
    def in_flight(self) -> int:
        return len(self._loads)

    def _finished(self, key: str, task: asyncio.Future[Any]) -> None:
        if self._loads.get(key) is task:
            del self._loads[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a load nobody awaits any more is quiet
