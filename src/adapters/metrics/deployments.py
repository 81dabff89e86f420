"""Deployments by environment and outcome, and how long they took, from the committed
`deployment.status_changed` events (once, on the instance that committed them).

Environment names are created by operators (`environments:manage`), so the label's
cardinality is bounded by the environments there are.
"""

import logging
from collections.abc import Sequence

from prometheus_client import Counter, Histogram

from application.ports.event_handler import Committed, EventHandler
from domain.releases.events import DeploymentStatusChanged

_fallback = logging.getLogger(__name__)

DEPLOYMENTS = Counter(
    "hexahub_deployments",
    "Finished deployments by environment and outcome (succeeded, failed, cancelled).",
    ["environment", "outcome"],
)
DEPLOYMENT_DURATION = Histogram(
    "hexahub_deployment_duration_seconds",
    "From a deployment's start (or request, if it never started) to its end.",
    ["environment", "outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)


class PrometheusDeploymentObserver(EventHandler):
    """Never raises: the events are durable when this runs."""

    async def handle(self, events: Sequence[Committed]) -> None:
        for committed in events:
            event = committed.event
            if not isinstance(event, DeploymentStatusChanged) or event.duration_seconds is None:
                continue
            try:
                DEPLOYMENTS.labels(event.environment, event.status).inc()
                DEPLOYMENT_DURATION.labels(event.environment, event.status).observe(
                    event.duration_seconds
                )
            except Exception as error:
                _fallback.warning("deployment_count_failed: %s", type(error).__name__)
