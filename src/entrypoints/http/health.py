"""Readiness probes: each dependency answers within a deadline or counts as down.

A dependency behind a circuit breaker reports the circuit too (`"circuit": "open"`).
While the circuit is open the probe is not run: the breaker already knows the answer,
and a probe that waited out a connect timeout would only slow the orchestrator down.
Once the circuit lets a probe through, the readiness check may be that probe, so an
idle instance also notices a dependency coming back. Each result sets
`hexahub_dependency_up`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from adapters.metrics.resilience import record_dependency_up
from adapters.resilience.circuit_breaker import BreakerState, CircuitBreaker

Probe = Callable[[], Awaitable[None]]

PROBE_TIMEOUT_SECONDS = 2.0


async def run_probe(probe: Probe, breaker: CircuitBreaker | None = None) -> dict[str, Any]:
    if breaker is not None and breaker.state is BreakerState.OPEN:
        result: dict[str, Any] = {"status": "unavailable", "error": "circuit_open"}
    else:
        result = await _timed(probe)
    if breaker is not None:
        # Read after the probe: a probe that succeeded in half-open has just closed it.
        result["circuit"] = breaker.state.name.lower()
    return result


async def _timed(probe: Probe) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_SECONDS)
    except Exception as error:
        return {"status": "unavailable", "error": type(error).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def run_probes(
    probes: Mapping[str, Probe], breakers: Mapping[str, CircuitBreaker | None] | None = None
) -> tuple[bool, dict[str, dict[str, Any]]]:
    breakers = breakers or {}
    names = list(probes)
    results = await asyncio.gather(*(run_probe(probes[n], breakers.get(n)) for n in names))
    checks = dict(zip(names, results, strict=True))
    for name, check in checks.items():
        record_dependency_up(name, check["status"] == "ok")
    return all(c["status"] == "ok" for c in checks.values()), checks
