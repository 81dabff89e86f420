"""Mail the service sends, and the outbox that makes sending survive failures."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class MailMessage:
    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMail:
    """A mail written in the same transaction as the change that caused it and sent
    after commit; kept and retried until it goes out."""

    id: UUID
    message: MailMessage
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
