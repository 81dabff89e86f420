"""What the relay hands over, for Prometheus: events by name, and how long after they
occurred (a growing lag means the relay, or what it feeds, is falling behind)."""

from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from application.ports.clock import Clock
from application.ports.event_handler import Committed, EventHandler

RELAYED = Counter(
    "hexahub_events_relayed", "Committed events handed to every instance, by name.", ["name"]
)
RELAY_LAG = Histogram(
    "hexahub_event_relay_lag_seconds",
    "Seconds from an event's commit to its relay.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


class PrometheusRelayObserver(EventHandler):
    """A relayed-moment handler; `name` is one of the catalog's fixed names."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def handle(self, events: Sequence[Committed]) -> None:
        now = self._clock.now()
        for committed in events:
            RELAYED.labels(name=committed.row.name).inc()
            RELAY_LAG.observe(max(0.0, (now - committed.row.occurred_at).total_seconds()))
