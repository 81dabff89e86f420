"""Readiness probes: each dependency answers within a deadline or counts as down."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

Probe = Callable[[], Awaitable[None]]

PROBE_TIMEOUT_SECONDS = 2.0


async def run_probe(probe: Probe) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_SECONDS)
    except Exception as error:
        return {"status": "unavailable", "error": type(error).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def run_probes(probes: dict[str, Probe]) -> tuple[bool, dict[str, dict[str, Any]]]:
    names = list(probes)
    results = await asyncio.gather(*(run_probe(probes[n]) for n in names))
    checks = dict(zip(names, results, strict=True))
    return all(c["status"] == "ok" for c in checks.values()), checks
