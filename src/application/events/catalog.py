"""What each domain event is called outside the service, who may follow it, and what it
carries: the published language of the outbox.

Each feature describes its own events in an `EventTable`; the composition root joins
the tables into one `Catalog`. The catalog turns a domain event (and the aggregate that
recorded it) into its outbox row, and an outbox row back into the domain event, so the
relay can hand events to the same handlers after a restart.
"""

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.ports.event_outbox import OutboxEvent, rfc3339
from domain.common.aggregate import Aggregate
from domain.common.events import DomainEvent

USERS = "users"
"""Accounts as administrators see them (`users:read`)."""
ACCOUNT = "account"
"""One's own account: sessions, second factor, keys, sign-ins."""
SYSTEM = "system"
"""Service clients and signing keys: audited and relayed, never offered to clients."""

View = Callable[[Any], dict[str, Any]]


def no_account(event: Any) -> UUID | None:
    return None


def _user_account(event: Any) -> UUID | None:
    user_id: UUID | None = event.user_id
    return user_id


@dataclass(frozen=True, slots=True, kw_only=True)
class EventSpec:
    name: str
    """Dotted and stable: `user.updated`. Clients and stored rows rely on it."""
    topic: str
    subject: Callable[[Any], object]
    """The id of the resource the event is about."""
    account: Callable[[Any], UUID | None] = _user_account
    view: View | None = None
    """The recording aggregate as the REST API shows it; without one (or for an event
    recorded on the unit of work) the event's facts are the data."""


EventTable = Mapping[type[DomainEvent], EventSpec]


class Catalog:
    def __init__(self, *tables: EventTable) -> None:
        self._specs: dict[type[DomainEvent], EventSpec] = {}
        self._types: dict[str, type[DomainEvent]] = {}
        for table in tables:
            for event_type, spec in table.items():
                if event_type in self._specs or spec.name in self._types:
                    raise ValueError(f"{event_type.__name__} ({spec.name}) is described twice")
                self._specs[event_type] = spec
                self._types[spec.name] = event_type

    def __contains__(self, event_type: type[DomainEvent]) -> bool:
        return event_type in self._specs

    def row(self, event: DomainEvent, source: Aggregate | None, *, id: UUID) -> OutboxEvent:
        """The outbox row of `event`, recorded by `source` (None: on the unit of work)."""
        spec = self._specs.get(type(event))
        if spec is None:
            raise LookupError(f"{type(event).__name__} is in no event table")
        facts = facts_of(event)
        data = spec.view(source) if spec.view is not None and source is not None else facts
        return OutboxEvent(
            id=id,
            name=spec.name,
            topic=spec.topic,
            aggregate_id=str(spec.subject(event)),
            account_id=spec.account(event),
            data=data,
            facts=facts,
            occurred_at=event.occurred_at,
        )

    def event(self, row: OutboxEvent) -> DomainEvent:
        """The domain event an outbox row records."""
        return rebuild(self._types[row.name], row.facts)


def fields(*names: str) -> View:
    """A view of these attributes of an entity, as JSON values."""
    return lambda entity: {name: json_value(getattr(entity, name)) for name in names}


def facts_of(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as JSON values, `occurred_at` included."""
    return {f.name: json_value(getattr(event, f.name)) for f in dataclasses.fields(event)}


def rebuild(event_type: type[DomainEvent], facts: Mapping[str, Any]) -> DomainEvent:
    hints = typing.get_type_hints(event_type)
    fields = {f.name for f in dataclasses.fields(event_type)}
    return event_type(**{k: _typed(hints[k], v) for k, v in facts.items() if k in fields})


def json_value(value: object) -> Any:
    """Ids and names as strings, instants in ISO 8601, sets sorted, value objects unwrapped."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return str(value)  # a StrEnum member as its plain value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, frozenset | set):
        return sorted(json_value(v) for v in value)
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    inner = getattr(value, "value", None)
    if inner is None:
        raise TypeError(f"no JSON form for {type(value).__name__}")
    return json_value(inner)


def _typed(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        return _typed(annotation, value)
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return tuple(_typed(item, v) for v in value)
    if annotation is UUID:
        return UUID(value)
    if annotation is datetime:
        return datetime.fromisoformat(value)
    return value
