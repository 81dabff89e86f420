from abc import abstractmethod
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.mail.messages import OutboxMail


class MailOutbox(Protocol):
    """Mail waiting to be sent, inside one unit of work. Never commits.

    `add` runs in the transaction of the change that causes the mail, so the mail
    exists exactly when the change does. `claim` hands due mail to one sender at a time,
    even across instances: a claimed mail is not due again until `lease` has passed.
    """

    @abstractmethod
    async def add(self, mail: OutboxMail) -> None: ...

    @abstractmethod
    async def claim(self, *, now: datetime, lease_seconds: int, limit: int) -> list[OutboxMail]: ...

    @abstractmethod
    async def mark_sent(self, mail_id: UUID, *, now: datetime) -> None:
        """Sent: the body (which may hold a token) is dropped from storage."""

    @abstractmethod
    async def mark_failed(
        self, mail_id: UUID, *, error: str, next_attempt_at: datetime | None
    ) -> None:
        """Failed: try again at `next_attempt_at`, or never when None (given up)."""
