"""Fan one stream of domain events out to several publishers (the log and the metrics)."""

import logging
from collections.abc import Iterable, Sequence

from application.ports.event_publisher import EventPublisher
from domain.events import DomainEvent

_fallback = logging.getLogger(__name__)


class CompositeEventPublisher(EventPublisher):
    """Hands every batch to each publisher in order.

    One publisher failing must not starve the others nor fail the use case (the port
    promises publishing never fails it), so a failure is reported and the next one runs.
    """

    def __init__(self, publishers: Iterable[EventPublisher]) -> None:
        self._publishers = tuple(publishers)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for publisher in self._publishers:
            try:
                await publisher.publish(events)
            except Exception as error:
                _fallback.warning(
                    "event_publisher_failed: %s (%s)",
                    type(publisher).__name__,
                    type(error).__name__,
                )
