"""Sessions active now, for Prometheus.

Counted in the database on a timer (see `adapters.metrics.sampler`), not moved up and
down by logins and logouts: expiry happens without any event, and a counter kept per
process would drift apart from the truth across restarts and instances. When the count
fails (the database is down), the gauge keeps its last value and the failure is logged.

Every instance and every worker counts the same table: under `PROMETHEUS_MULTIPROC_DIR`
the scrape shows the most recent count of any live worker, one value, not a sum.
"""

from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Gauge

from application.errors import ServiceUnavailableError

log = structlog.get_logger()

ACTIVE_SESSIONS = Gauge(
    "hexahub_active_sessions",
    "Sessions neither revoked nor expired, across all users.",
    multiprocess_mode="livemostrecent",
)


async def sample_sessions(count: Callable[[], Awaitable[int]]) -> None:
    """Set the gauge from `count()`; on failure, log and keep the last value."""
    try:
        ACTIVE_SESSIONS.set(await count())
    except ServiceUnavailableError as error:
        log.warning("active_sessions_count_failed", error=error.code)
    except Exception as error:
        # A metric must never take the sampler down with it; the class names the bug.
        log.error("active_sessions_count_failed", error_type=type(error).__name__)
