"""Webhook events: ids and names only, never the signing secret."""

from dataclasses import dataclass
from uuid import UUID

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookCreated(DomainEvent):
    webhook_id: UUID
    owner_id: UUID | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookUpdated(DomainEvent):
    webhook_id: UUID
    owner_id: UUID | None
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDeleted(DomainEvent):
    webhook_id: UUID
    owner_id: UUID | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDisabled(DomainEvent):
    """Turned off by the service after `failures` failed attempts in a row."""

    webhook_id: UUID
    owner_id: UUID | None
    failures: int
