from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.crypto.secret_box import FernetSecretBox
from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import WebhookDeliveryRow, WebhookRow, table_of
from application.errors import WebhookNotFoundError
from application.ports.webhook_repository import WebhookRepository
from domain.webhooks.webhooks import DeliveryOutcome, Webhook, WebhookDelivery

_WAITING = (DeliveryOutcome.PENDING.value, DeliveryOutcome.RETRYING.value)

# Webhook reads as Core statements built once, no ORM rows: the relay reads them all for
# every batch of events it hands over.
_WEBHOOKS = table_of(WebhookRow)
_ALL = select(_WEBHOOKS).order_by(_WEBHOOKS.c.created_at.desc(), _WEBHOOKS.c.id.desc())
_GET = select(_WEBHOOKS).where(_WEBHOOKS.c.id == bindparam("webhook_id"))


class SqlAlchemyWebhookRepository(WebhookRepository):
    """Webhooks (`webhooks`, the secret encrypted with `box`) and their deliveries
    (`webhook_deliveries`), inside the caller's session. Never commits.

    `enqueue` is an INSERT … ON CONFLICT DO NOTHING on (webhook, event); `claim_due`
    locks what it takes with `FOR UPDATE SKIP LOCKED` on Postgres, so dispatchers on
    several instances share the queue without waiting on each other (SQLite serializes
    writers anyway)."""

    def __init__(self, session: AsyncSession, box: FernetSecretBox) -> None:
        self._session = session
        self._box = box

    @translated
    async def add(self, webhook: Webhook) -> None:
        self._session.add(
            WebhookRow(
                id=webhook.id,
                owner_id=webhook.owner_id,
                secret=self._box.encrypt(webhook.secret.encode()),
                created_at=webhook.created_at,
                **_editable(webhook),
            )
        )
        await self._session.flush()

    @translated
    async def update(self, webhook: Webhook) -> None:
        row = await self._session.get(WebhookRow, webhook.id)
        if row is None:
            raise WebhookNotFoundError()
        for name, value in _editable(webhook).items():
            setattr(row, name, value)
        await self._session.flush()

    @translated
    async def delete(self, webhook_id: UUID) -> None:
        await self._session.execute(
            delete(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
        )
        await self._session.execute(delete(WebhookRow).where(WebhookRow.id == webhook_id))

    @translated
    async def get(self, webhook_id: UUID) -> Webhook | None:
        row = (await self._session.execute(_GET, {"webhook_id": webhook_id})).one_or_none()
        return None if row is None else self._to_entity(row)

    @translated
    async def all(self) -> list[Webhook]:
        return [self._to_entity(row) for row in await self._session.execute(_ALL)]

    @translated
    async def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None:
        if not deliveries:
            return
        dialect = self._session.bind.dialect.name if self._session.bind else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(WebhookDeliveryRow).values([_delivery_row(d) for d in deliveries])
        await self._session.execute(
            statement.on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])
        )

    @translated
    async def claim_due(
        self, *, now: datetime, lease_seconds: float, limit: int
    ) -> list[WebhookDelivery]:
        query = (
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.outcome.in_(_WAITING),
                WebhookDeliveryRow.next_attempt_at <= now,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        rows = list(await self._session.scalars(query))
        claimed = [_to_delivery(row) for row in rows]
        for row in rows:
            row.next_attempt_at = now + timedelta(seconds=lease_seconds)
        await self._session.flush()
        return claimed

    @translated
    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        row = await self._session.get(WebhookDeliveryRow, delivery.id)
        if row is None:
            return  # its webhook was deleted meanwhile
        row.attempt = delivery.attempt
        row.status_code = delivery.status_code
        row.outcome = delivery.outcome.value
        row.next_attempt_at = delivery.next_attempt_at
        await self._session.flush()

    @translated
    async def deliveries(
        self, webhook_id: UUID, *, limit: int, before: UUID | None = None
    ) -> list[WebhookDelivery]:
        query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
        if before is not None:
            query = query.where(WebhookDeliveryRow.id < before)
        query = query.order_by(WebhookDeliveryRow.id.desc()).limit(limit)
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_delivery(row) for row in rows]

    def _to_entity(self, row: Row[Any]) -> Webhook:
        return Webhook(
            id=row.id,
            owner_id=row.owner_id,
            url=row.url,
            events=tuple(row.events),
            description=row.description,
            secret=self._box.decrypt(row.secret).decode(),
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            consecutive_failures=row.consecutive_failures,
        )


def _editable(webhook: Webhook) -> dict[str, object]:
    return {
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
        "consecutive_failures": webhook.consecutive_failures,
        "updated_at": webhook.updated_at,
    }


def _delivery_row(delivery: WebhookDelivery) -> dict[str, object]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id,
        "event": delivery.event,
        "payload": delivery.payload,
        "attempt": delivery.attempt,
        "status_code": delivery.status_code,
        "outcome": delivery.outcome.value,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at,
    }


def _to_delivery(row: WebhookDeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event=row.event,
        payload=row.payload,
        attempt=row.attempt,
        status_code=row.status_code,
        outcome=DeliveryOutcome(row.outcome),
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
    )
