import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog

from application.ports.event_bus import EventBus
from application.ports.event_outbox import OutboxEvent

log = structlog.get_logger()


class InProcessEventBus(EventBus):
    """The bus of one process (no Redis): published events reach this process's
    listeners, in order, before `publish` returns. A failing listener is reported and
    misses the event, as it would on Redis; the others still get it."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[OutboxEvent], Awaitable[None]]] = []

    async def publish(self, events: Sequence[OutboxEvent]) -> None:
        for event in events:
            for listener in list(self._listeners):
                try:
                    await listener(event)
                except Exception as error:
                    log.warning("event_listener_failed", error=type(error).__name__)

    async def listen(
        self,
        on_event: Callable[[OutboxEvent], Awaitable[None]],
        *,
        on_subscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._listeners.append(on_event)
        try:
            if on_subscribed is not None:
                await on_subscribed()
            await asyncio.Event().wait()  # until cancelled
        finally:
            self._listeners.remove(on_event)
