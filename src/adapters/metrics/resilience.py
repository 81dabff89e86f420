"""Dependency health for Prometheus: circuit breaker states and readiness probe results.

Module-level gauges, like the other families (the registry is process-global). Under
`PROMETHEUS_MULTIPROC_DIR` each worker has its own breakers: the scrape shows the worst
state among live workers (`livemax`: one worker with an open circuit is worth an
alert), and the freshest probe result from any live worker (`livemostrecent`: the
dependency is shared, so the latest observation is the best one).
"""

from prometheus_client import Gauge

from adapters.resilience.circuit_breaker import BreakerState

CIRCUIT_STATE = Gauge(
    "hexahub_circuit_breaker_state",
    "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
    ["dependency"],
    multiprocess_mode="livemax",
)
DEPENDENCY_UP = Gauge(
    "hexahub_dependency_up",
    "1 when the dependency answered its last readiness probe, else 0.",
    ["dependency"],
    multiprocess_mode="livemostrecent",
)


def record_breaker_state(name: str, state: BreakerState) -> None:
    """A `CircuitBreaker` state listener."""
    CIRCUIT_STATE.labels(dependency=name).set(state.value)


def record_dependency_up(name: str, up: bool) -> None:
    DEPENDENCY_UP.labels(dependency=name).set(1 if up else 0)
