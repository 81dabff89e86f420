"""Sending the mail outbox: claim due mail, send it outside any transaction, record how
it went. The change that wrote a mail committed long before; nothing here can undo it."""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from application.errors import NotifierUnavailableError
from application.ports.clock import Clock
from application.ports.notifier import Notifier
from application.ports.unit_of_work_factory import TransactionFactory
from domain.mail.messages import OutboxMail

# However many attempts have failed, the next one is at most this far away.
MAX_BACKOFF = timedelta(hours=1)


def _ignore(error: BaseException) -> None:
    return None


class MailDispatcher:
    """Delivers outbox mail through the `Notifier`, at least once.

    Rules:
    - Due mail is claimed in one short transaction, which commits before any sending:
      no transaction (and no database lock) is held across a network call.
    - A claim is a lease: another dispatcher, in this process or another instance, does
      not see the mail again for `lease_seconds`. Each outcome is recorded the moment it
      is known, in its own transaction, and the batch stops once half the lease has
      passed, so a slow mail server cannot let a lease lapse under mail still queued
      here (which a second dispatcher would then send too).
    - Sent: recorded as sent, and the outbox drops the body (it may hold a one-time
      link).
    - Not sent: kept, and tried again after `base_backoff_seconds * 2**(attempts-1)`,
      at most an hour later; after `max_attempts` attempts it is given up (kept, with
      no next attempt, for an operator to see).
    - At least once, not exactly once: if recording "sent" fails (the database went
      away after the mail server said yes), the lease runs out and the mail goes again.
    - The error recorded is the error's class name (and its cause's), never a message:
      server replies can echo addresses, and nothing secret belongs in the outbox.
    """

    def __init__(
        self,
        transactions: TransactionFactory,
        notifier: Notifier,
        clock: Clock,
        *,
        lease_seconds: int = 60,
        batch: int = 20,
        max_attempts: int = 8,
        base_backoff_seconds: int = 30,
        on_error: Callable[[BaseException], None] = _ignore,
    ) -> None:
        if lease_seconds < 1 or batch < 1 or max_attempts < 1 or base_backoff_seconds < 1:
            raise ValueError(
                "lease_seconds, batch, max_attempts and base_backoff_seconds must be >= 1"
            )
        self._transactions = transactions
        self._notifier = notifier
        self._clock = clock
        self._lease_seconds = lease_seconds
        self._batch = batch
        self._max_attempts = max_attempts
        self._base_backoff = timedelta(seconds=base_backoff_seconds)
        self._on_error = on_error

    async def dispatch_due(self) -> int:
        """Send one batch of due mail; returns how many were sent."""
        _, sent = await self._dispatch_batch()
        return sent

    async def run_forever(self, interval_seconds: float, wake: asyncio.Event) -> None:
        """Dispatch every `interval_seconds`, or at once when `wake` is set (a use case
        sets it after committing mail). Errors go to `on_error` and the loop goes on;
        only cancellation ends it."""
        while True:
            # Cleared before dispatching: a kick that lands mid-batch (mail committed
            # after our claim) is kept and starts the next round straight away.
            wake.clear()
            backlog = False
            try:
                claimed, sent = await self._dispatch_batch()
                # A full batch that got mail out means more may be due: go again now.
                # One that sent nothing waits, so a dead mail server is not hammered.
                backlog = claimed >= self._batch and sent > 0
            except Exception as error:
                self._report(error)
            if backlog:
                await asyncio.sleep(0)  # yield the loop between batches
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval_seconds)

    async def _dispatch_batch(self) -> tuple[int, int]:
        claimed_at = self._clock.now()
        async with self._transactions() as uow:
            mails = await uow.outbox.claim(
                now=claimed_at, lease_seconds=self._lease_seconds, limit=self._batch
            )
            await uow.commit()

        send_until = claimed_at + timedelta(seconds=self._lease_seconds / 2)
        sent = 0
        for mail in mails:
            if self._clock.now() >= send_until:
                # The rest stay leased and come back when the lease ends, sent by
                # whichever dispatcher claims them then.
                break
            if await self._deliver(mail):
                sent += 1
        return len(mails), sent

    async def _deliver(self, mail: OutboxMail) -> bool:
        try:
            await self._notifier.send(mail.message)
        except NotifierUnavailableError as error:
            await self._record_failure(mail, error)
            return False
        except Exception as error:
            # A notifier bug must not wedge the batch: the mail is retried like any
            # other failure, and the error is reported.
            self._report(error)
            await self._record_failure(mail, error)
            return False
        async with self._transactions() as uow:
            await uow.outbox.mark_sent(mail.id, now=self._clock.now())
            await uow.commit()
        return True

    async def _record_failure(self, mail: OutboxMail, error: Exception) -> None:
        next_attempt_at = self._next_attempt_at(mail.attempts, self._clock.now())
        async with self._transactions() as uow:
            await uow.outbox.mark_failed(
                mail.id, error=_describe(error), next_attempt_at=next_attempt_at
            )
            await uow.commit()

    def _next_attempt_at(self, attempts: int, now: datetime) -> datetime | None:
        """`attempts` counts the attempt that just failed (the claim counted it)."""
        if attempts >= self._max_attempts:
            return None
        # The exponent is capped first: 2**attempts outgrows timedelta's range quickly.
        exponent = min(max(attempts - 1, 0), 32)
        return now + min(self._base_backoff * (1 << exponent), MAX_BACKOFF)

    def _report(self, error: BaseException) -> None:
        with contextlib.suppress(Exception):  # a broken reporter must not stop the mail
            self._on_error(error)


def _describe(error: BaseException) -> str:
    name = type(error).__name__
    cause = error.__cause__
    return name if cause is None else f"{name} ({type(cause).__name__})"
