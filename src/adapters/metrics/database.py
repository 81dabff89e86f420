"""Database metrics for Prometheus: statement latency and the connection pool.

Statement latency comes from SQLAlchemy's `before_cursor_execute` and
`after_cursor_execute` events on the engine's `sync_engine` (an async engine fires them
too), so every statement the application sends is timed, whichever repository sent it.
A statement that fails never reaches `after_cursor_execute` and is not observed.
`operation` is the statement's first keyword folded into a fixed set (a CTE is
`other`), never the SQL text.

The pool gauges are sampled (see `adapters.metrics.sampler`), not updated on every
checkout: pool events fire before a returned connection is counted back in, so
event-driven values would lag by one, and sampling costs the queries nothing. Only a
`QueuePool` (PostgreSQL and SQLite files) reports; in-memory storage has no pool and so
no series. Under `PROMETHEUS_MULTIPROC_DIR` each worker has its own pool: the gauges are
summed over live workers.
"""

import re
import time
from typing import Any

from prometheus_client import Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

# 0.5 ms to 10 s: an indexed lookup on a local socket up to the statement timeout.
QUERY_DURATION = Histogram(
    "hexahub_db_query_duration_seconds",
    "Time from sending a statement to the driver returning, by operation.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_CONNECTIONS = Gauge(
    "hexahub_db_pool_connections",
    "Pooled database connections: in use, idle in the pool, and open beyond its size.",
    ["state"],
    multiprocess_mode="livesum",
)

OPERATIONS = ("select", "insert", "update", "delete", "other")
# Bound once, so a statement costs a dict lookup rather than a `labels()` call.
_BY_OPERATION = {name: QUERY_DURATION.labels(operation=name) for name in OPERATIONS}
_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
# The start time rides on the statement's own execution context: one attribute per
# statement, and nothing is left behind when the statement fails.
_STARTED = "_hexahub_metrics_started"


def instrument_engine(engine: AsyncEngine) -> AsyncEngine:
    """Time every statement `engine` runs. Returns the engine, for a one-line hook."""
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", _before)
    event.listen(sync_engine, "after_cursor_execute", _after)
    return engine


def sample_pool(engine: AsyncEngine) -> None:
    """Set the pool gauges from `engine`'s pool now (three integer reads)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return
    POOL_CONNECTIONS.labels(state="in_use").set(pool.checkedout())
    POOL_CONNECTIONS.labels(state="idle").set(pool.checkedin())
    # `overflow()` counts from -pool_size: negative while the pool is not yet full.
    POOL_CONNECTIONS.labels(state="overflow").set(max(0, pool.overflow()))


def operation_of(statement: str) -> str:
    match = _FIRST_WORD.match(statement)
    word = match.group(1).lower() if match else ""
    return word if word in _BY_OPERATION else "other"


def _before(
    _conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    if context is not None:
        setattr(context, _STARTED, time.perf_counter())


def _after(
    _conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    started = getattr(context, _STARTED, None)
    if started is not None:
        _BY_OPERATION[operation_of(statement)].observe(time.perf_counter() - started)
