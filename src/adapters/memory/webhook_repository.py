from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import ConflictError, WebhookNotFoundError
from application.ports.webhook_repository import WebhookRepository
from domain.webhooks.webhooks import Webhook, WebhookDelivery


class InMemoryWebhookRepository(WebhookRepository):
    """Webhooks and deliveries in a transaction's working tables; the same contract as
    the SQL adapter (detached copies in and out; the secret kept as is: nothing here
    outlives the process)."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, webhook: Webhook) -> None:
        if webhook.id in self._tables.webhooks:
            raise ConflictError()
        self._tables.webhooks[webhook.id] = _stored(webhook)

    async def update(self, webhook: Webhook) -> None:
        current = self._tables.webhooks.get(webhook.id)
        if current is None:
            raise WebhookNotFoundError()
        stored = _stored(webhook)
        stored.created_at, stored.owner_id, stored.secret = (
            current.created_at,
            current.owner_id,
            current.secret,
        )
        self._tables.webhooks[webhook.id] = stored

    async def delete(self, webhook_id: UUID) -> None:
        self._tables.webhooks.pop(webhook_id, None)
        for key in [
            k for k, d in self._tables.webhook_deliveries.items() if d.webhook_id == webhook_id
        ]:
            del self._tables.webhook_deliveries[key]

    async def get(self, webhook_id: UUID) -> Webhook | None:
        webhook = self._tables.webhooks.get(webhook_id)
        return None if webhook is None else detached(webhook)

    async def all(self) -> list[Webhook]:
        found = sorted(
            self._tables.webhooks.values(), key=lambda w: (w.created_at, w.id), reverse=True
        )
        return [detached(w) for w in found]

    async def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None:
        queued = {(d.webhook_id, d.event_id) for d in self._tables.webhook_deliveries.values()}
        for delivery in deliveries:
            key = (delivery.webhook_id, delivery.event_id)
            if key not in queued and delivery.webhook_id in self._tables.webhooks:
                queued.add(key)
                self._tables.webhook_deliveries[delivery.id] = _stored_delivery(delivery)

    async def claim_due(
        self, *, now: datetime, lease_seconds: float, limit: int
    ) -> list[WebhookDelivery]:
        due = sorted(
            (
                d
                for d in self._tables.webhook_deliveries.values()
                if d.due and d.next_attempt_at is not None and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.id),
        )[:limit]
        claimed = []
        for delivery in due:
            handed = detached(delivery)
            leased = detached(delivery)
            leased.next_attempt_at = utc(now + timedelta(seconds=lease_seconds))
            self._tables.webhook_deliveries[delivery.id] = leased
            claimed.append(handed)
        return claimed

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        if delivery.id in self._tables.webhook_deliveries:
            self._tables.webhook_deliveries[delivery.id] = _stored_delivery(delivery)

    async def deliveries(
        self, webhook_id: UUID, *, limit: int, before: UUID | None = None
    ) -> list[WebhookDelivery]:
        found = sorted(
            (
                d
                for d in self._tables.webhook_deliveries.values()
                if d.webhook_id == webhook_id and (before is None or d.id < before)
            ),
            key=lambda d: d.id,
            reverse=True,
        )
        return [detached(d) for d in found[:limit]]


def _stored(webhook: Webhook) -> Webhook:
    stored = detached(webhook)
    stored.created_at = utc(webhook.created_at)
    stored.updated_at = utc(webhook.updated_at)
    return stored


def _stored_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    stored = detached(delivery)
    stored.created_at = utc(delivery.created_at)
    stored.next_attempt_at = utc_or_none(delivery.next_attempt_at)
    return stored
