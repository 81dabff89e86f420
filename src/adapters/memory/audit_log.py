import copy
from dataclasses import replace
from uuid import UUID

from adapters.memory.store import Tables, utc
from application.ports.audit_log import AuditFilter, AuditLog
from domain.audit.entries import AuditEvent


class InMemoryAuditLog(AuditLog):
    """The audit trail in a transaction's working tables: appended with the transaction,
    gone if it rolls back. Same contract as the SQL adapter, which has no update or
    delete either; events go in and out as private copies (their `details` is a dict)."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def append(self, event: AuditEvent) -> None:
        if event.id in self._tables.audit_events:
            raise ValueError(f"duplicate audit event id {event.id}")
        self._tables.audit_events[event.id] = replace(
            event, occurred_at=utc(event.occurred_at), details=copy.deepcopy(event.details)
        )

    async def list(
        self, *, filter: AuditFilter, after: UUID | None, limit: int
    ) -> list[AuditEvent]:
        found = [
            e
            for e in sorted(self._tables.audit_events.values(), key=lambda e: e.id, reverse=True)
            if (after is None or e.id < after)
            and (filter.actor_id is None or e.actor_id == filter.actor_id)
            and (filter.action is None or e.action == filter.action)
            and (filter.target_id is None or e.target_id == filter.target_id)
            and (filter.since is None or e.occurred_at >= filter.since)
            and (filter.until is None or e.occurred_at < filter.until)
        ]
        return [replace(e, details=copy.deepcopy(e.details)) for e in found[: max(limit, 0)]]
