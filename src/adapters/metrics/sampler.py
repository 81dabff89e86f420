"""The gauges that are read rather than counted, refreshed together on a timer.

Sampling keeps scrapes and requests free of work: a scrape never queries the database,
and a request never touches these gauges. Each refresh is one aggregate query (active
sessions) and a few reads from the pool and from procfs. The first refresh runs at
start-up, so a scrape never sees the gauges unset.
"""

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics.database import sample_pool
from adapters.metrics.process import sample_process
from adapters.metrics.sessions import sample_sessions

INTERVAL_SECONDS = 15.0
"""A common scrape interval: sampling faster would be unseen, slower would go stale."""


class MetricsSampler:
    def __init__(
        self, *, count_sessions: Callable[[], Awaitable[int]], engine: AsyncEngine | None
    ) -> None:
        self._count_sessions = count_sessions
        self._engine = engine

    async def sample(self) -> None:
        """Refresh every gauge. Never raises for a failing dependency."""
        sample_process()
        await sample_sessions(self._count_sessions)
        if self._engine is not None:
            sample_pool(self._engine)

    async def run_forever(self, interval: float = INTERVAL_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.sample()
