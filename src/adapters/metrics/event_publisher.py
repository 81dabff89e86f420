"""Business counters for Prometheus, fed by the domain events the use cases publish.

The counters are module-level because the Prometheus registry is process-global: an
app built twice in one process (as the tests do) shares one set of series instead of
failing with "Duplicated timeseries". Counters need no multiprocess mode; under
`PROMETHEUS_MULTIPROC_DIR` each worker writes its own file and the scrape sums them
(see `entrypoints.http.routers.metrics`).

Rate-limit rejections and API-key uses are not domain events: the throttle's listener
(`adapters.metrics.throttle`) and the HTTP edge (`adapters.metrics.api_keys`) count them.
"""

import logging
from collections.abc import Sequence

from prometheus_client import Counter

from application.ports.event_publisher import EventPublisher
from domain.access.events import ApiKeyFirstUsed
from domain.common.events import DomainEvent
from domain.identity.events import (
    AccountLocked,
    LoginFailed,
    RefreshReuseDetected,
    SessionRefreshed,
    UserLoggedIn,
    UserRegistered,
)

_fallback = logging.getLogger(__name__)

REGISTRATIONS = Counter("hexahub_registrations", "Self-service registrations.")
# `reason` is one of a fixed set of literals written in the use cases (`locked`,
# `inactive`, `mfa_invalid_code`, ...), never caller input, so its cardinality is bounded.
# It is empty for successes.
LOGINS = Counter("hexahub_logins", "Log-in attempts by outcome.", ["outcome", "reason"])
REFRESHES = Counter("hexahub_refreshes", "Refresh-token rotations by outcome.", ["outcome"])
LOCKOUTS = Counter("hexahub_lockouts", "Accounts locked after repeated failures.")
API_KEY_FIRST_USES = Counter("hexahub_api_key_first_uses", "API keys used for the first time.")


class PrometheusEventPublisher(EventPublisher):
    """Counts the events that matter to operations; ignores the rest.

    Never raises (see the port): the events are already durable when this runs.
    """

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            try:
                _count(event)
            except Exception as error:
                _fallback.warning("event_count_failed: %s (%s)", event.name, type(error).__name__)


def _count(event: DomainEvent) -> None:
    match event:
        case UserRegistered():
            REGISTRATIONS.inc()
        case UserLoggedIn():
            LOGINS.labels(outcome="success", reason="").inc()
        case LoginFailed(reason="wrong_current_password"):
            pass  # a password change, not a login
        case LoginFailed(reason=reason):
            LOGINS.labels(outcome="failure", reason=reason).inc()
        case SessionRefreshed():
            REFRESHES.labels(outcome="success").inc()
        case RefreshReuseDetected():
            REFRESHES.labels(outcome="reuse_detected").inc()
        case AccountLocked():
            LOCKOUTS.inc()
        case ApiKeyFirstUsed():
            API_KEY_FIRST_USES.inc()
        case _:
            pass
