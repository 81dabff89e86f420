"""Webhooks: a URL that receives signed copies of committed events, and the deliveries
that carry each event to it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.common.errors import InvalidValueError
from domain.webhooks.events import WebhookCreated, WebhookDeleted, WebhookDisabled, WebhookUpdated

ANY_EVENT = "*"


@dataclass(eq=False, kw_only=True)
class Webhook(Aggregate):
    """A subscriber endpoint. `secret` (`whsec_…`) signs every delivery, so it is kept
    readable (encrypted at rest by the storage adapter), shown once, never logged."""

    id: UUID
    owner_id: UUID | None
    url: str
    events: tuple[str, ...]
    description: str | None
    secret: str = field(repr=False)
    active: bool
    created_at: datetime
    updated_at: datetime
    consecutive_failures: int = 0
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Webhook) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        owner_id: UUID | None,
        url: str,
        events: tuple[str, ...],
        description: str | None,
        secret: str,
        now: datetime,
    ) -> "Webhook":
        webhook = cls(
            id=id,
            owner_id=owner_id,
            url=url,
            events=_event_names(events),
            description=description,
            secret=secret,
            active=True,
            created_at=now,
            updated_at=now,
        )
        webhook.record(WebhookCreated(occurred_at=now, webhook_id=id, owner_id=owner_id))
        return webhook

    def wants(self, event_name: str) -> bool:
        return self.active and (ANY_EVENT in self.events or event_name in self.events)

    def change(self, *, now: datetime, **changes: Any) -> None:
        """Apply the given fields (`url`, `events`, `description`, `active`); a webhook
        switched back on starts a fresh run of failures."""
        changed = []
        for name, value in changes.items():
            if name == "events":
                value = _event_names(value)
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        if "active" in changed and self.active:
            self.consecutive_failures = 0
        if changed:
            self.updated_at = now
            self.record(
                WebhookUpdated(
                    occurred_at=now,
                    webhook_id=self.id,
                    owner_id=self.owner_id,
                    fields=tuple(changed),
                )
            )

    def deleted(self, *, now: datetime) -> None:
        self.record(WebhookDeleted(occurred_at=now, webhook_id=self.id, owner_id=self.owner_id))

    def attempt_failed(self, *, now: datetime, disable_after: int) -> None:
        self.consecutive_failures += 1
        if self.active and self.consecutive_failures >= disable_after:
            self.active = False
            self.updated_at = now
            self.record(
                WebhookDisabled(
                    occurred_at=now,
                    webhook_id=self.id,
                    owner_id=self.owner_id,
                    failures=self.consecutive_failures,
                )
            )

    def attempt_succeeded(self) -> None:
        self.consecutive_failures = 0


def _event_names(events: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(e.strip() for e in events))
    if not names or any(not n or len(n) > 100 or not n.isprintable() for n in names):
        raise InvalidValueError('events must list event names or "*"', field="events")
    return names


class DeliveryOutcome(StrEnum):
    PENDING = "pending"
    """Not tried yet."""
    RETRYING = "retrying"
    """Failed at least once; tried again at `next_attempt_at`."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Given up: retried for the whole horizon, or the webhook is gone or disabled."""


@dataclass(eq=False, kw_only=True)
class WebhookDelivery:
    """One event on its way to one webhook: a durable queue entry and its log line.

    `id` doubles as nothing else: the `webhook-id` header is the event id, the same on
    every attempt, so receivers can drop a repeat."""

    id: UUID
    webhook_id: UUID
    event_id: UUID
    event: str
    payload: dict[str, Any]
    attempt: int
    status_code: int | None
    outcome: DeliveryOutcome
    created_at: datetime
    next_attempt_at: datetime | None

    @property
    def due(self) -> bool:
        return self.outcome in (DeliveryOutcome.PENDING, DeliveryOutcome.RETRYING)

    def succeeded(self, status_code: int) -> None:
        self.attempt += 1
        self.status_code = status_code
        self.outcome = DeliveryOutcome.SUCCEEDED
        self.next_attempt_at = None

    def failed(self, status_code: int | None, *, retry_at: datetime | None) -> None:
        """An attempt failed; `retry_at` None: give up."""
        self.attempt += 1
        self.status_code = status_code
        if retry_at is None:
            self.outcome = DeliveryOutcome.FAILED
            self.next_attempt_at = None
        else:
            self.outcome = DeliveryOutcome.RETRYING
            self.next_attempt_at = retry_at

    def abandon(self) -> None:
        self.outcome = DeliveryOutcome.FAILED
        self.next_attempt_at = None


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): `base`, then doubling up
    to `cap`, times `jitter` (a factor drawn by the caller, e.g. in 0.8..1.2, so that
    receivers coming back are not hit by every sender at once)."""
    return timedelta(seconds=min(cap, base * 2 ** (attempt - 1)) * jitter)
