"""Event collection shared by aggregates."""

from domain.common.events import DomainEvent


class Aggregate:
    """An entity that records domain events; the unit of work that loaded or added it
    collects them when it commits."""

    def __init__(self) -> None:
        self._events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events
