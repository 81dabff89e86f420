from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from application.ports.event_outbox import OutboxEvent


class EventBus(Protocol):
    """Hands relayed events to every instance of the service, in the order published.

    Best effort per listener: a listener that was disconnected misses what was
    published meanwhile and reads it back from the outbox (`EventOutbox.after`).
    """

    @abstractmethod
    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        """Raises `ServiceUnavailableError` when the bus cannot take them: the relay then
        keeps the events and hands them over again."""

    @abstractmethod
    async def listen(
        self,
        on_event: Callable[[OutboxEvent], Awaitable[None]],
        *,
        on_subscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Call `on_event` for every event published from now on, until cancelled.
        `on_subscribed` runs each time the listener is (re)connected, before the events
        that follow: a listener reads there what it missed while disconnected."""
