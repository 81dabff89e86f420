from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.audit.entries import AuditEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    actor_id: UUID | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive upper bound."""


class AuditLog(Protocol):
    """The append-only audit trail, inside one unit of work: an event appended in a
    transaction that rolls back was never recorded. There is no update or delete."""

    @abstractmethod
    async def append(self, event: AuditEvent) -> None: ...

    @abstractmethod
    async def list(
        self, *, filter: AuditFilter, after: UUID | None, limit: int
    ) -> list[AuditEvent]:
        """Newest first: up to `limit` events with id smaller than `after`."""
