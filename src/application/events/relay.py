"""The relay: committed outbox events to the relayed-moment handlers, in id order, at
least once, and once cluster-wide; and the outbox kept to its retention window."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from application.events.catalog import Catalog
from application.events.handlers import HandlerTable
from application.ports.clock import Clock
from application.ports.event_handler import Committed
from application.ports.unit_of_work_factory import TransactionFactory

ErrorListener = Callable[[BaseException], None]


def _ignore(error: BaseException) -> None:
    return None


class EventRelay:
    """Rules:
    - One relay at a time, cluster-wide, takes the oldest unrelayed events (the
      outbox's claim is a lease), so they leave in id order; the lease outlives a
      crash by `lease_seconds` at most, then another instance carries on.
    - The claim commits before any handler runs: no transaction is held across them.
    - A batch is marked relayed only once every handler took it. A handler that fails
      (Redis down, say) makes the relay give the batch back and try again later, from
      the same event: nothing is skipped, and handlers are idempotent.
    - Relayed events are kept for `retention` after they occurred (clients that
      reconnect read what they missed from them), then pruned, a batch at a time.
    """

    def __init__(
        self,
        *,
        transactions: TransactionFactory,
        catalog: Catalog,
        handlers: HandlerTable,
        clock: Clock,
        retention: timedelta,
        lease_seconds: float = 30.0,
        batch: int = 100,
        on_error: ErrorListener = _ignore,
    ) -> None:
        if lease_seconds <= 0 or batch < 1:
            raise ValueError("lease_seconds must be positive and batch at least 1")
        self._transactions = transactions
        self._catalog = catalog
        self._handlers = handlers
        self._clock = clock
        self._retention = retention
        self._lease_seconds = lease_seconds
        self._batch = batch
        self._on_error = on_error

    async def relay_once(self) -> int:
        """Relay one batch; how many events it held (0: none, or another relay's turn)."""
        async with self._transactions() as tx:
            rows = await tx.events.claim(
                now=self._clock.now(), lease_seconds=self._lease_seconds, limit=self._batch
            )
            await tx.commit()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        try:
            await self._handlers.relayed([Committed(row, self._catalog.event(row)) for row in rows])
        except BaseException:
            with contextlib.suppress(Exception):
                async with self._transactions() as tx:
                    await tx.events.release(ids)
                    await tx.commit()
            raise
        async with self._transactions() as tx:
            await tx.events.mark_relayed(ids, now=self._clock.now())
            await tx.commit()
        return len(rows)

    async def relay_all(self) -> int:
        """Relay batches until none is left (or it is another relay's turn)."""
        total = 0
        while relayed := await self.relay_once():
            total += relayed
            if relayed < self._batch:
                break
        return total

    async def prune(self) -> int:
        before = self._clock.now() - self._retention
        pruned = 0
        while True:
            async with self._transactions() as tx:
                gone = await tx.events.prune(before=before, limit=1000)
                await tx.commit()
            pruned += gone
            if gone < 1000:
                return pruned

    async def run_forever(
        self, interval_seconds: float, wake: asyncio.Event, *, prune_every: float = 60.0
    ) -> None:
        """Relay every `interval_seconds`, or at once when `wake` is set (a commit on
        this instance sets it); prune every `prune_every` seconds. Errors go to
        `on_error` and the loop goes on, backing off while they last; only
        cancellation ends it."""
        loop = asyncio.get_running_loop()
        next_prune = loop.time()
        failures = 0
        while True:
            wake.clear()  # before relaying: a commit that lands meanwhile starts the next round
            try:
                await self.relay_all()
                if loop.time() >= next_prune:
                    await self.prune()
                    next_prune = loop.time() + prune_every
                failures = 0
            except Exception as error:
                self._report(error)
                failures += 1
            if failures:  # commits do not cut a back-off short: the outage has to end
                await asyncio.sleep(min(interval_seconds * 2**failures, 30.0))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval_seconds)

    def _report(self, error: BaseException) -> None:
        with contextlib.suppress(Exception):
            self._on_error(error)
