from collections.abc import Sequence

from application.ports.event_bus import EventBus
from application.ports.event_handler import Committed, EventHandler


class FanOut(EventHandler):
    """Publishes relayed events on the bus: every instance's listeners receive them."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def handle(self, events: Sequence[Committed]) -> None:
        await self._bus.publish([c.row for c in events])
