from collections.abc import Sequence

from application.ports.event_publisher import EventPublisher
from domain.common.events import DomainEvent


class InMemoryEventPublisher(EventPublisher):
    """Keeps every published event in `events`, in order, for tests to inspect."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)
