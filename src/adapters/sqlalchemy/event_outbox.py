from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Integer, Row, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import EventOutboxRow, table_of
from application.ports.event_outbox import EventOutbox, OutboxEvent

# The advisory lock ordering event writers before claims: a fixed 64-bit number, the
# first 8 bytes of sha256(b"hexahub:event-order"), signed.
EVENT_ORDER_LOCK_KEY = 5506361230384971721
# Taken shared by each writer drawing event ids, exclusively by a claim (PostgreSQL).
_WRITER_LOCK = text(f"SELECT pg_advisory_xact_lock_shared({EVENT_ORDER_LOCK_KEY})")
_CLAIM_LOCK = text(f"SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK_KEY})")

# The writes and the claim run on the table, not the mapped class: plain Core statements,
# built once, with nothing kept in the session's identity map. Every login and every
# other write passes through here twice (written, then relayed), and the ORM's flushes
# and bulk handling of these statements cost more than the statements.
_OUTBOX = table_of(EventOutboxRow)
_ADD = insert(_OUTBOX)
_HEAD = (
    select(_OUTBOX)
    .where(_OUTBOX.c.relayed_at.is_(None))
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update()  # left out on SQLite
)


class SqlAlchemyEventOutbox(EventOutbox):
    """Events in the `event_outbox` table, inside the caller's session. Never commits.

    `claim` locks the oldest unrelayed rows in id order (`FOR UPDATE`, not `SKIP
    LOCKED`: a second relay waits for the first one's claim to commit, then sees its
    leases) and takes them only when none of them is leased to a live relay. So one
    relay at a time moves the head of the outbox, cluster-wide, and events leave in
    order; on SQLite writers are serialized outright.

    Ids are drawn before the commit, so a transaction may still commit an id older
    than one already relayed. Hence `hold_order`: on PostgreSQL a writer drawing event
    ids holds a shared advisory lock to its end, and a claim first takes it
    exclusively, waiting for every such writer in flight; on SQLite the writer's BEGIN
    IMMEDIATE keeps others out from before its first id to its commit.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def hold_order(self) -> None:
        connection = await self._session.connection()
        if connection.dialect.name == "sqlite":
            # The writer's BEGIN IMMEDIATE takes the lock; it must be held before the
            # first id is drawn, not sent later with the first statement.
            await connection.run_sync(_begin_now)
        await self._lock_order(_WRITER_LOCK)

    async def _lock_order(self, lock: TextClause) -> None:
        if self._session.get_bind().dialect.name == "postgresql":
            await self._session.execute(lock)

    @translated
    async def add(self, events: Sequence[OutboxEvent]) -> None:
        if events:
            await self._session.execute(_ADD, [_to_row(event) for event in events])

    @translated
    async def claim(self, *, now: datetime, lease_seconds: float, limit: int) -> list[OutboxEvent]:
        if limit <= 0:
            return []
        await self._lock_order(_CLAIM_LOCK)
        head = (await self._session.execute(_HEAD, {"limit": limit})).all()
        if not head or any(row.leased_until is not None and row.leased_until > now for row in head):
            return []  # nothing to relay (no lease to write), or another relay's turn
        await self._session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_([row.id for row in head]))
            .values(leased_until=now + timedelta(seconds=lease_seconds))
        )
        return [_to_entity(row) for row in head]

    @translated
    async def release(self, event_ids: Sequence[UUID]) -> None:
        await self._settle(event_ids, relayed_at=None)

    @translated
    async def mark_relayed(self, event_ids: Sequence[UUID], *, now: datetime) -> None:
        await self._settle(event_ids, relayed_at=now)

    async def _settle(self, event_ids: Sequence[UUID], *, relayed_at: datetime | None) -> None:
        """End the lease of unrelayed events, marking them relayed or not."""
        await self._session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(list(event_ids)), _OUTBOX.c.relayed_at.is_(None))
            .values(relayed_at=relayed_at, leased_until=None)
        )

    @translated
    async def after(self, event_id: UUID | None, *, limit: int) -> list[OutboxEvent]:
        query = select(EventOutboxRow).order_by(EventOutboxRow.id).limit(limit)
        if event_id is not None:
            query = query.where(EventOutboxRow.id > event_id)
        return [_to_entity(row) for row in await self._session.scalars(query)]

    @translated
    async def prune(self, *, before: datetime, limit: int) -> int:
        doomed = (
            select(EventOutboxRow.id)
            .where(EventOutboxRow.relayed_at.is_not(None), EventOutboxRow.occurred_at < before)
            .order_by(EventOutboxRow.id)
            .limit(limit)
        )
        ids = list((await self._session.scalars(doomed)).all())
        if ids:
            await self._session.execute(
                delete(EventOutboxRow)
                .where(EventOutboxRow.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        return len(ids)


def _to_entity(row: EventOutboxRow | Row[Any]) -> OutboxEvent:
    return OutboxEvent(
        id=row.id,
        name=row.name,
        topic=row.topic,
        aggregate_id=row.aggregate_id,
        account_id=row.account_id,
        data=row.data,
        facts=row.facts,
        occurred_at=row.occurred_at,
        relayed_at=row.relayed_at,
    )


def _to_row(event: OutboxEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "topic": event.topic,
        "aggregate_id": event.aggregate_id,
        "account_id": event.account_id,
        "data": event.data,
        "facts": event.facts,
        "occurred_at": event.occurred_at,
        "leased_until": None,
        "relayed_at": event.relayed_at,
    }


def _begin_now(connection: Connection) -> None:
    connection.connection.dbapi_connection.begin_now()  # type: ignore[union-attr]
