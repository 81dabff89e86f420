from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.common.security import Principal
from application.ports.audit_log import AuditFilter
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.permissions import Permission
from domain.audit.entries import AuditEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    actor_id: UUID | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    after: UUID | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEvent]
    next_after: UUID | None


@dataclass(frozen=True, slots=True)
class ListAuditEvents:
    """The audit trail, newest first, filtered, keyset-paginated. Needs `audit:read`.
    Read-only: nothing in the service edits or deletes an audit event."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal, query: AuditQuery) -> AuditPage:
        principal.require(Permission.AUDIT_READ)
        limit = max(1, min(query.limit, 100))
        audit_filter = AuditFilter(
            actor_id=query.actor_id,
            action=query.action,
            target_id=query.target_id,
            since=query.since,
            until=query.until,
        )
        async with self.uow_factory() as uow:
            events = await uow.audit.list(filter=audit_filter, after=query.after, limit=limit + 1)
        items = events[:limit]
        return AuditPage(items, items[-1].id if len(events) > limit else None)
