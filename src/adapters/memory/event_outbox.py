import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from adapters.memory.store import Tables, utc
from application.ports.event_outbox import EventOutbox, OutboxEvent


class InMemoryEventOutbox(EventOutbox):
    """Events in a transaction's working tables, with the SQL adapter's rules. Claims
    are atomic because the store lets one transaction run at a time."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def hold_order(self) -> None:
        return None  # one transaction at a time: nothing commits between draw and claim

    async def add(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            if event.id in self._tables.events:
                raise ValueError(f"duplicate outbox event id {event.id}")
            # A private copy, as a database row would be.
            self._tables.events[event.id] = replace(
                copy.deepcopy(event), occurred_at=utc(event.occurred_at)
            )

    async def claim(self, *, now: datetime, lease_seconds: float, limit: int) -> list[OutboxEvent]:
        head = sorted(
            (e for e in self._tables.events.values() if e.relayed_at is None), key=lambda e: e.id
        )[: max(limit, 0)]
        leases = self._tables.event_leases
        if any(leases.get(e.id, now) > now for e in head):
            return []
        for event in head:
            leases[event.id] = now + timedelta(seconds=lease_seconds)
        return [copy.deepcopy(e) for e in head]

    async def release(self, event_ids: Sequence[UUID]) -> None:
        for event_id in event_ids:
            self._tables.event_leases.pop(event_id, None)

    async def mark_relayed(self, event_ids: Sequence[UUID], *, now: datetime) -> None:
        for event_id in event_ids:
            event = self._tables.events.get(event_id)
            if event is not None and event.relayed_at is None:
                self._tables.events[event_id] = replace(event, relayed_at=utc(now))
            self._tables.event_leases.pop(event_id, None)

    async def after(self, event_id: UUID | None, *, limit: int) -> list[OutboxEvent]:
        newer = (e for e in self._tables.events.values() if event_id is None or e.id > event_id)
        return [copy.deepcopy(e) for e in sorted(newer, key=lambda e: e.id)[: max(limit, 0)]]

    async def prune(self, *, before: datetime, limit: int) -> int:
        doomed = sorted(
            e.id
            for e in self._tables.events.values()
            if e.relayed_at is not None and e.occurred_at < before
        )[: max(limit, 0)]
        for event_id in doomed:
            del self._tables.events[event_id]
        return len(doomed)
