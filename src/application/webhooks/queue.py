"""Committed events onto the webhook delivery queue, and the queue out to receivers."""

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Sequence
from datetime import timedelta

from application.live.topics import OFFERED
from application.ports.clock import Clock
from application.ports.event_handler import Committed, EventHandler
from application.ports.event_outbox import OutboxEvent
from application.ports.id_generator import IdGenerator
from application.ports.unit_of_work_factory import TransactionFactory, UnitOfWorkFactory
from application.ports.webhook_sender import WebhookSender
from application.webhooks import signing
from domain.webhooks.webhooks import DeliveryOutcome, Webhook, WebhookDelivery, retry_delay

OutcomeListener = Callable[[str], None]


class WebhookEnqueuer(EventHandler):
    """A relayed-moment handler: each committed event a webhook wants becomes a delivery
    in the durable queue (once per webhook and event, however often it is relayed).
    Topics live clients cannot follow (`system`) are not offered to webhooks either."""

    def __init__(
        self,
        transactions: TransactionFactory,
        ids: IdGenerator,
        clock: Clock,
        wake: Callable[[], None],
        reads: TransactionFactory,
    ) -> None:
        self._transactions = transactions
        self._ids = ids
        self._clock = clock
        self._wake = wake
        self._reads = reads

    async def handle(self, events: Sequence[Committed]) -> None:
        offered = [c.row for c in events if c.row.topic in OFFERED]
        if not offered:
            return
        # Most events are wanted by no webhook: a read finds that out without a write
        # transaction (on SQLite, without queueing for the write lock behind requests).
        async with self._reads() as tx:
            if not _wanted(await tx.webhooks.all(), offered):
                return
        now = self._clock.now()
        async with self._transactions() as tx:
            queued = [
                WebhookDelivery(
                    id=self._ids.new_id(),
                    webhook_id=webhook.id,
                    event_id=row.id,
                    event=row.name,
                    payload=row.public(),
                    attempt=0,
                    status_code=None,
                    outcome=DeliveryOutcome.PENDING,
                    created_at=now,
                    next_attempt_at=now,
                )
                for row, webhook in _wanted(await tx.webhooks.all(), offered)
            ]
            if queued:
                await tx.webhooks.enqueue(queued)
                await tx.commit()
        if queued:
            self._wake()


def _wanted(
    webhooks: Sequence[Webhook], offered: Sequence[OutboxEvent]
) -> list[tuple[OutboxEvent, Webhook]]:
    return [(row, webhook) for row in offered for webhook in webhooks if webhook.wants(row.name)]


class WebhookDispatcher:
    """Rules:
    - Due deliveries are claimed (leased) from the durable queue, at most `in_flight`
      sent at once per instance; each attempt POSTs the event's JSON with Standard
      Webhooks headers: `webhook-id` is the event id on every attempt.
    - A 2xx answer delivers. Anything else (another status, a timeout, a refused
      target) is retried after `base` seconds, then doubling up to `cap`, with jitter,
      until `horizon` after the event; then it is given up.
    - A webhook whose attempts fail `disable_after` times in a row is disabled (an
      event and an audit entry say so); its queued deliveries are given up.
    - The secret is read to sign and goes nowhere else.
    """

    def __init__(
        self,
        *,
        transactions: TransactionFactory,
        units_of_work: UnitOfWorkFactory,
        sender: WebhookSender,
        clock: Clock,
        base: float,
        cap: float,
        horizon: timedelta,
        disable_after: int,
        in_flight: int,
        lease_seconds: float = 60.0,
        on_outcome: OutcomeListener | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._transactions = transactions
        self._units_of_work = units_of_work
        self._sender = sender
        self._clock = clock
        self._base = base
        self._cap = cap
        self._horizon = horizon
        self._disable_after = disable_after
        self._in_flight = in_flight
        self._lease_seconds = lease_seconds
        self._on_outcome = on_outcome
        self._on_error = on_error

    async def dispatch_once(self) -> int:
        """Send what is due (one claim); how many deliveries were attempted."""
        async with self._transactions() as tx:
            due = await tx.webhooks.claim_due(
                now=self._clock.now(), lease_seconds=self._lease_seconds, limit=self._in_flight
            )
            await tx.commit()
        if due:
            await asyncio.gather(*(self._attempt(d) for d in due))
        return len(due)

    async def _attempt(self, delivery: WebhookDelivery) -> None:
        async with self._transactions() as tx:
            webhook = await tx.webhooks.get(delivery.webhook_id)
        if webhook is None or not webhook.active:
            await self._finish(delivery, None, abandon=True)
            return
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(self._clock.now().timestamp())
        status = await self._sender.send(
            webhook.url,
            body,
            signing.headers(webhook.secret, str(delivery.event_id), timestamp, body),
        )
        await self._finish(delivery, status)

    async def _finish(
        self, delivery: WebhookDelivery, status: int | None, *, abandon: bool = False
    ) -> None:
        now = self._clock.now()
        async with self._units_of_work() as uow:
            webhook = await uow.webhooks.get(delivery.webhook_id)
            if abandon or webhook is None:
                delivery.abandon()
            elif status is not None and 200 <= status < 300:
                delivery.succeeded(status)
                webhook.attempt_succeeded()
            else:
                delay = retry_delay(
                    delivery.attempt + 1,
                    base=self._base,
                    cap=self._cap,
                    jitter=random.uniform(0.8, 1.2),  # noqa: S311 (spreading retries, not secrecy)
                )
                retry_at = now + delay
                give_up = retry_at > delivery.created_at + self._horizon
                delivery.failed(status, retry_at=None if give_up else retry_at)
                webhook.attempt_failed(now=now, disable_after=self._disable_after)
                if not webhook.active:
                    delivery.abandon()
            if webhook is not None:
                await uow.webhooks.update(webhook)
            await uow.webhooks.save_delivery(delivery)
            await uow.commit()
        if self._on_outcome is not None:
            with contextlib.suppress(Exception):
                self._on_outcome(delivery.outcome.value)

    async def run_forever(self, interval_seconds: float, wake: asyncio.Event) -> None:
        """Dispatch whenever something is due: at least every `interval_seconds`, at
        once when `wake` is set (a delivery was queued here). Errors back off."""
        failures = 0
        while True:
            wake.clear()
            try:
                while await self.dispatch_once():
                    pass
                failures = 0
            except Exception as error:
                failures += 1
                if self._on_error is not None:
                    with contextlib.suppress(Exception):
                        self._on_error(error)
            if failures:
                await asyncio.sleep(min(interval_seconds * 2**failures, 30.0))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval_seconds)
