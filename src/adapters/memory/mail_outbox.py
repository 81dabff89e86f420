from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from adapters.memory.store import Tables, utc, utc_or_none
from application.ports.mail_outbox import MailOutbox
from domain.mail.messages import OutboxMail

MAX_CLAIMS = 25
"""As in the SQL adapter: a mail claimed this often is never claimed again."""

_LAST_ERROR_LENGTH = 500


class InMemoryMailOutbox(MailOutbox):
    """Mail in a transaction's working tables, with the SQL adapter's rules: due means
    unsent, claimed fewer than `MAX_CLAIMS` times, and never tried or past its
    `next_attempt_at`; claiming pushes that out by the lease. Atomic because the store
    lets one transaction run at a time."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, mail: OutboxMail) -> None:
        if mail.id in self._tables.outbox:
            raise ValueError(f"duplicate outbox mail id {mail.id}")
        self._tables.outbox[mail.id] = replace(
            mail,
            created_at=utc(mail.created_at),
            next_attempt_at=utc_or_none(mail.next_attempt_at),
            sent_at=utc_or_none(mail.sent_at),
        )

    async def claim(self, *, now: datetime, lease_seconds: int, limit: int) -> list[OutboxMail]:
        due = sorted(
            (m for m in self._tables.outbox.values() if _is_due(m, now)),
            key=lambda m: (m.created_at, m.id),
        )
        claimed = []
        for mail in due[: max(limit, 0)]:
            taken = replace(
                mail,
                attempts=mail.attempts + 1,
                next_attempt_at=utc(now + timedelta(seconds=lease_seconds)),
            )
            self._tables.outbox[mail.id] = taken
            claimed.append(taken)  # frozen: safe to share
        return claimed

    async def mark_sent(self, mail_id: UUID, *, now: datetime) -> None:
        mail = self._tables.outbox.get(mail_id)
        if mail is None or mail.sent_at is not None:
            return
        self._tables.outbox[mail_id] = replace(
            mail,
            message=replace(mail.message, text=""),  # the body does not outlive delivery
            sent_at=utc(now),
            next_attempt_at=None,
            last_error=None,
        )

    async def mark_failed(
        self, mail_id: UUID, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        mail = self._tables.outbox.get(mail_id)
        if mail is None or mail.sent_at is not None:
            return
        self._tables.outbox[mail_id] = replace(
            mail,
            last_error=error[:_LAST_ERROR_LENGTH],
            next_attempt_at=utc_or_none(next_attempt_at),
        )


def _is_due(mail: OutboxMail, now: datetime) -> bool:
    if mail.sent_at is not None or mail.attempts >= MAX_CLAIMS:
        return False
    if mail.next_attempt_at is None:
        return mail.attempts == 0  # tried and no next attempt: given up
    return mail.next_attempt_at <= now
