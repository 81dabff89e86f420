from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.webhooks.webhooks import Webhook, WebhookDelivery


class WebhookRepository(Protocol):
    """Webhooks and their deliveries (a durable queue and its log), inside one
    transaction. Never commits.

    The secret is stored so that it can be read back to sign (encrypted at rest where
    the storage can be copied). `update` of an unknown webhook raises
    `WebhookNotFoundError`; deleting one deletes its deliveries. `enqueue` skips a
    (webhook, event) pair already queued, so a relay that hands an event over twice
    queues it once. `claim_due` leases the deliveries it returns for `lease_seconds`
    (their `next_attempt_at` moves that far), so two dispatchers never send one at
    once and a dispatcher that died is replaced after the lease: at least once.
    """

    @abstractmethod
    async def add(self, webhook: Webhook) -> None: ...

    @abstractmethod
    async def update(self, webhook: Webhook) -> None: ...

    @abstractmethod
    async def delete(self, webhook_id: UUID) -> None: ...

    @abstractmethod
    async def get(self, webhook_id: UUID) -> Webhook | None: ...

    @abstractmethod
    async def all(self) -> list[Webhook]:
        """Every webhook, newest first."""

    @abstractmethod
    async def enqueue(self, deliveries: Sequence[WebhookDelivery]) -> None: ...

    @abstractmethod
    async def claim_due(
        self, *, now: datetime, lease_seconds: float, limit: int
    ) -> list[WebhookDelivery]:
        """Up to `limit` pending or retrying deliveries due by `now`, the longest
        waiting first, each leased to the caller."""

    @abstractmethod
    async def save_delivery(self, delivery: WebhookDelivery) -> None: ...

    @abstractmethod
    async def deliveries(
        self, webhook_id: UUID, *, limit: int, before: UUID | None = None
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries, newest first, with an id below `before` if given."""
