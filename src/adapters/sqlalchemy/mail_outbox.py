from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import MailOutboxRow
from application.ports.mail_outbox import MailOutbox
from domain.mail.messages import MailMessage, OutboxMail

MAX_CLAIMS = 25
"""A mail claimed this often is never claimed again, even if no sender ever reported on
it (a message that crashes its sender must not be retried forever)."""

_LAST_ERROR_LENGTH = 500


class SqlAlchemyMailOutbox(MailOutbox):
    """Mail in the `mail_outbox` table, inside the caller's session. Never commits.

    Due: unsent, claimed fewer than `MAX_CLAIMS` times, and either never tried or past
    its `next_attempt_at`. (A mail that was tried and has no next attempt is given up:
    `mark_failed(next_attempt_at=None)`.)

    `claim` picks due mail oldest first and takes each with a conditional UPDATE that
    re-checks "still due" and pushes `next_attempt_at` out by the lease, so of two
    senders racing for a mail exactly one gets it: on PostgreSQL the loser waits on the
    row lock, then finds it no longer due (and `FOR UPDATE SKIP LOCKED` lets it pass
    over mail being claimed right now rather than queue); on SQLite writers are
    serialized outright.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, mail: OutboxMail) -> None:
        async with self._session.begin_nested():
            self._session.add(_to_row(mail))

    @translated
    async def claim(self, *, now: datetime, lease_seconds: int, limit: int) -> list[OutboxMail]:
        if limit <= 0:
            return []
        candidates = (
            await self._session.scalars(
                select(MailOutboxRow.id)
                .where(_due(now))
                .order_by(MailOutboxRow.created_at, MailOutboxRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)  # left out on SQLite
            )
        ).all()
        claimed: list[UUID] = []
        for mail_id in candidates:
            hit = (
                await self._session.scalars(
                    update(MailOutboxRow)
                    .where(MailOutboxRow.id == mail_id, _due(now))
                    .values(
                        next_attempt_at=now + timedelta(seconds=lease_seconds),
                        attempts=MailOutboxRow.attempts + 1,
                    )
                    .returning(MailOutboxRow.id)
                    .execution_options(synchronize_session=False)
                )
            ).one_or_none()
            if hit is not None:
                claimed.append(hit)
        if not claimed:
            return []
        rows = await self._session.scalars(
            select(MailOutboxRow)
            .where(MailOutboxRow.id.in_(claimed))
            .order_by(MailOutboxRow.created_at, MailOutboxRow.id)
            .execution_options(populate_existing=True)
        )
        return [_to_entity(row) for row in rows]

    @translated
    async def mark_sent(self, mail_id: UUID, *, now: datetime) -> None:
        await self._session.execute(
            update(MailOutboxRow)
            .where(MailOutboxRow.id == mail_id, MailOutboxRow.sent_at.is_(None))
            # The body may carry a one-time link: it does not outlive its delivery.
            .values(sent_at=now, body=None, next_attempt_at=None, last_error=None)
            .execution_options(synchronize_session=False)
        )

    @translated
    async def mark_failed(
        self, mail_id: UUID, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        await self._session.execute(
            update(MailOutboxRow)
            .where(MailOutboxRow.id == mail_id, MailOutboxRow.sent_at.is_(None))
            .values(last_error=error[:_LAST_ERROR_LENGTH], next_attempt_at=next_attempt_at)
            .execution_options(synchronize_session=False)
        )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        MailOutboxRow.sent_at.is_(None),
        MailOutboxRow.attempts < MAX_CLAIMS,
        or_(
            and_(MailOutboxRow.next_attempt_at.is_(None), MailOutboxRow.attempts == 0),
            MailOutboxRow.next_attempt_at <= now,
        ),
    )


def _to_entity(row: MailOutboxRow) -> OutboxMail:
    return OutboxMail(
        id=row.id,
        # A sent mail has no body any more; only unsent mail is ever handed out.
        message=MailMessage(to=row.recipient, subject=row.subject, text=row.body or ""),
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def _to_row(mail: OutboxMail) -> MailOutboxRow:
    return MailOutboxRow(
        id=mail.id,
        recipient=mail.message.to,
        subject=mail.message.subject,
        body=mail.message.text,
        created_at=mail.created_at,
        attempts=mail.attempts,
        next_attempt_at=mail.next_attempt_at,
        sent_at=mail.sent_at,
        last_error=mail.last_error,
    )
