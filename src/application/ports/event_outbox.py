from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """A committed domain event as it leaves the service.

    `{id, name, topic, occurred_at, data}` is what clients and webhooks see
    (`public()`); the rest serves the relay and the handlers. Nothing in it is a secret,
    a hash or a token.
    """

    id: UUID
    """Time-ordered (UUIDv7): events leave in this order."""
    name: str
    """Dotted: `user.updated`, `session.revoked`."""
    topic: str
    """`users`, `account`, ... (who may follow it)."""
    aggregate_id: str
    """The resource the event is about; its events keep their order."""
    account_id: UUID | None
    """The account the event concerns, if any."""
    data: dict[str, Any]
    """The resource as the REST API shows it, or the event's facts when it has none."""
    facts: dict[str, Any]
    """The domain event's own fields (ids, reasons), to rebuild it after a restart."""
    occurred_at: datetime
    relayed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """The event as clients receive it (JSON-ready)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "topic": self.topic,
            "occurred_at": rfc3339(self.occurred_at),
            "data": self.data,
        }


def rfc3339(moment: datetime) -> str:
    """As the REST API writes instants: UTC as `Z` (RFC 3339 §5.6)."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class EventOutbox(Protocol):
    """Committed events on their way out, inside one transaction. Never commits.

    `add` runs in the transaction of the change, so an event exists exactly when its
    change does. `claim` hands the oldest unrelayed events to one relay at a time,
    cluster-wide: while any of them is leased to another relay it returns nothing, so
    events leave in id order. A claim is a lease: events not marked relayed within
    `lease_seconds` (their relay died) are claimed again, so delivery is at least once.
    Relayed events stay readable through `after` until `prune` removes them.
    """

    @abstractmethod
    async def hold_order(self) -> None:
        """Called by a writing transaction before it draws its events' ids: until it
        ends, no `claim` passes over them. Ids are drawn before the commit, so without
        this a transaction that drew an id earlier could commit after a later one had
        been relayed, and the earlier event would leave after it (or a reader resuming
        after the later id would never see it)."""

    @abstractmethod
    async def add(self, events: Sequence[OutboxEvent]) -> None: ...

    @abstractmethod
    async def claim(self, *, now: datetime, lease_seconds: float, limit: int) -> list[OutboxEvent]:
        """Up to `limit` of the oldest unrelayed events, leased to the caller, oldest
        first; empty when there are none or another relay holds a lease on them."""

    @abstractmethod
    async def release(self, event_ids: Sequence[UUID]) -> None:
        """Give claimed events back unrelayed (their handlers failed): the next claim
        may take them at once."""

    @abstractmethod
    async def mark_relayed(self, event_ids: Sequence[UUID], *, now: datetime) -> None: ...

    @abstractmethod
    async def after(self, event_id: UUID | None, *, limit: int) -> list[OutboxEvent]:
        """Up to `limit` committed events with an id greater than `event_id` (from the
        oldest kept when None), oldest first: what a client that saw `event_id` missed."""

    @abstractmethod
    async def prune(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` relayed events that occurred before `before`; unrelayed
        events are never deleted. Returns how many went."""
