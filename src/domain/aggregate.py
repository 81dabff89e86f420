"""Event collection shared by aggregates."""

from domain.events import DomainEvent


class Aggregate:
    """An entity that records domain events for the unit of work to hand on after commit."""

    def __init__(self) -> None:
        self._events: list[DomainEvent] = []

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events
