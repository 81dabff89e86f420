"""Live events and webhooks, for Prometheus: open connections, events delivered and
dropped by channel (`websocket`, `sse`), webhook deliveries by outcome."""

from prometheus_client import Counter, Gauge

live_connections = Gauge(
    "hexahub_live_connections",
    "Open live-event connections, by channel.",
    ["channel"],
    multiprocess_mode="livesum",
)
DELIVERED = Counter(
    "hexahub_live_events_delivered", "Events sent to live connections, by channel.", ["channel"]
)
DROPPED = Counter(
    "hexahub_live_events_dropped",
    "Events a live connection did not get because it was closed as too slow, by channel.",
    ["channel"],
)
WEBHOOK_DELIVERIES = Counter(
    "hexahub_webhook_deliveries",
    "Webhook delivery attempts, by outcome (succeeded, retrying, failed, refused).",
    ["outcome"],
)


def count_delivered(channel: str, count: int = 1) -> None:
    DELIVERED.labels(channel=channel).inc(count)


def count_dropped(channel: str, count: int = 1) -> None:
    DROPPED.labels(channel=channel).inc(count)


def count_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
