"""Dependency health for Prometheus: circuit breaker states and readiness probe results.

Module-level gauges, like the other families (the registry is process-global). Under
`PROMETHEUS_MULTIPROC_DIR` each worker has its own breakers: the scrape shows, for each
state, whether any live worker is in it (`livemax`: one worker with an open circuit is
worth an alert), and the freshest probe result from any live worker (`livemostrecent`:
the dependency is shared, so the latest observation is the best one).

`dependency` is `database` or `redis` in both families, the same value for the same
thing.
"""

from prometheus_client import Gauge

from adapters.resilience.circuit_breaker import BreakerState

CIRCUIT_STATE = Gauge(
    "hexahub_circuit_breaker_state",
    "Circuit breaker state per dependency: 1 for the state it is in, 0 for the others.",
    ["dependency", "state"],
    multiprocess_mode="livemax",
)
STATES = {state: state.name.lower() for state in BreakerState}
DEPENDENCY_UP = Gauge(
    "hexahub_dependency_up",
    "1 when the dependency answered its last readiness probe, else 0.",
    ["dependency"],
    multiprocess_mode="livemostrecent",
)


def record_breaker_state(name: str, state: BreakerState) -> None:
    """A `CircuitBreaker` state listener. Every state is written, so a query for
    `state="open"` sees a 0 rather than nothing while the circuit is closed."""
    for each, label in STATES.items():
        CIRCUIT_STATE.labels(dependency=name, state=label).set(1 if each is state else 0)


def record_dependency_up(name: str, up: bool) -> None:
    DEPENDENCY_UP.labels(dependency=name).set(1 if up else 0)
