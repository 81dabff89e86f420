from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import AuditEventRow, table_of
from application.ports.audit_log import AuditFilter, AuditLog
from domain.audit.entries import AuditDetail, AuditEvent, Outcome

# On the table, not the mapped class: a plain Core INSERT, built once, without the ORM's
# bulk-insert handling.
_APPEND = insert(table_of(AuditEventRow))


class SqlAlchemyAuditLog(AuditLog):
    """The `audit_events` table, inside the caller's session: an event exists exactly
    when the transaction that appended it commits. Rows are only ever inserted (Core
    INSERT, nothing kept in the identity map); database triggers refuse any UPDATE or
    DELETE. Listing is newest first by id (UUIDv7, so by time) and keyed by id."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def append(self, event: AuditEvent) -> None:
        # No savepoint: a failed append fails the whole use case, never to be recovered
        # from within the transaction.
        await self._session.execute(_APPEND, _to_row(event))

    @translated
    async def list(
        self, *, filter: AuditFilter, after: UUID | None, limit: int
    ) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(max(limit, 0))
        if after is not None:
            query = query.where(AuditEventRow.id < after)
        if filter.actor_id is not None:
            query = query.where(AuditEventRow.actor_id == filter.actor_id)
        if filter.action is not None:
            query = query.where(AuditEventRow.action == filter.action)
        if filter.target_id is not None:
            query = query.where(AuditEventRow.target_id == filter.target_id)
        if filter.since is not None:
            query = query.where(AuditEventRow.occurred_at >= filter.since)
        if filter.until is not None:
            query = query.where(AuditEventRow.occurred_at < filter.until)
        rows = await self._session.scalars(query)
        return [_to_entity(row) for row in rows]


def _to_entity(row: AuditEventRow) -> AuditEvent:
    details: dict[str, AuditDetail] = dict(row.details)
    return AuditEvent(
        id=row.id,
        action=row.action,
        actor_id=row.actor_id,
        target_id=row.target_id,
        outcome=Outcome(row.outcome),
        ip=row.ip,
        user_agent=row.user_agent,
        request_id=row.request_id,
        occurred_at=row.occurred_at,
        details=details,
    )


def _to_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action": event.action,
        "actor_id": event.actor_id,
        "target_id": event.target_id,
        "outcome": str(event.outcome),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "occurred_at": event.occurred_at,
        "details": dict(event.details),
    }
