"""Readiness checks: each answers within a deadline or counts as down.

A check behind a circuit breaker reports the circuit too (`"circuit": "open"`). While the
circuit is open the probe is not run: the breaker already knows the answer, and a probe
that waited out a connect timeout would only slow the orchestrator down. Once the
circuit lets a probe through, the readiness check may be that probe, so an idle instance
also notices a dependency coming back.

What readiness answers: 503 `unavailable` when a required check fails (the database,
its schema, and Redis only with `READINESS_REQUIRES_REDIS`); 200 `degraded` when only an
optional one does (Redis: the service serves without it, see the README, and a Redis
outage must not take every replica out of the load balancer at once); else 200 `ok`.
Checks of real dependencies set `hexahub_dependency_up{dependency}`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.metrics.resilience import record_dependency_up
from adapters.resilience.circuit_breaker import BreakerState, CircuitBreaker
from adapters.sqlalchemy.engine import READS_ONLY
from adapters.sqlalchemy.errors import translating
from adapters.sqlalchemy.migrations import database_revision, schema_history

Probe = Callable[[], Awaitable[dict[str, Any] | None]]
"""Returns details to show beside `"status": "ok"`; raises when not ready."""

PROBE_TIMEOUT_SECONDS = 2.0


class NotReadyError(Exception):
    """Raised by a probe whose dependency answered but cannot serve yet: the check shows
    `status` and `details` instead of an exception's class."""

    def __init__(self, status: str, **details: Any) -> None:
        super().__init__(status)
        self.status = status
        self.details = details


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    probe: Probe
    breaker: CircuitBreaker | None = None
    """Reported beside the result; while it is open the probe is skipped."""
    dependency: str | None = None
    """The `hexahub_dependency_up` label; None for what is not a dependency of its own."""
    required: bool = True
    """False: a failure makes the instance `degraded`, still ready."""


async def run_check(check: Check) -> dict[str, Any]:
    breaker = check.breaker
    if breaker is not None and breaker.state is BreakerState.OPEN:
        result: dict[str, Any] = {"status": "unavailable", "error": "circuit_open"}
    else:
        result = await _timed(check.probe)
    if breaker is not None:
        # Read after the probe: a probe that succeeded in half-open has just closed it.
        result["circuit"] = breaker.state.name.lower()
    if check.dependency is not None:
        record_dependency_up(check.dependency, result["status"] == "ok")
    return result


async def _timed(probe: Probe) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_SECONDS)
    except NotReadyError as refusal:
        return {"status": refusal.status, **refusal.details}
    except Exception as error:
        return {"status": "unavailable", "error": type(error).__name__}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok", "latency_ms": latency, **(details or {})}


async def run_checks(checks: Mapping[str, Check]) -> tuple[str, dict[str, dict[str, Any]]]:
    """The overall status (`ok`, `degraded` or `unavailable`) and each check's result."""
    names = list(checks)
    results = dict(
        zip(names, await asyncio.gather(*(run_check(checks[n]) for n in names)), strict=True)
    )
    failed = [name for name, result in results.items() if result["status"] != "ok"]
    if any(checks[name].required for name in failed):
        return "unavailable", results
    return ("degraded" if failed else "ok"), results


# --- the probes -------------------------------------------------------------------------


def database_probe(engine: AsyncEngine | None, breaker: CircuitBreaker) -> Probe:
    async def probe() -> None:
        if engine is None:
            return
        # Through the breaker, so readiness polls alone can close it again.
        async with breaker.guard():
            with translating():
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

    return probe


def migrations_probe(engine: AsyncEngine, breaker: CircuitBreaker) -> Probe:
    """The database's Alembic revision against the newest this release knows. Behind is
    not ready (`pending`); a revision this release does not know is a newer release's,
    migrated during a rolling update, and serves. Not through the breaker: a database
    that answers without our tables is not down, and must not open the circuit."""

    async def probe() -> dict[str, Any]:
        if breaker.state is BreakerState.OPEN:
            raise NotReadyError("unavailable", error="circuit_open")
        history = await asyncio.to_thread(schema_history)  # read once, then cached
        async with engine.connect() as connection:
            # A plain BEGIN on SQLite: a readiness poll must not queue for the write lock.
            await connection.execution_options(**{READS_ONLY: True})
            current = await database_revision(connection)
        if current == history.head or (current is not None and current not in history.known):
            return {"revision": current, "expected": history.head}
        raise NotReadyError(
            "pending",
            revision=current,
            expected=history.head,
            message=f"the database schema is not migrated: run `hexahub migrate` "
            f"to bring it from {current or 'empty'} to {history.head}",
        )

    return probe
