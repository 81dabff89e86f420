"""Several workers, one scrape: with `PROMETHEUS_MULTIPROC_DIR` set, `/metrics` merges
what every process counted. Real processes, since prometheus_client picks its storage
when it is first imported."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

WORKER = textwrap.dedent(
    """
    import asyncio
    from datetime import UTC, datetime
    from uuid import uuid4

    from adapters.metrics.event_publisher import PrometheusEventPublisher
    from domain.identity.events import UserRegistered
    from entrypoints.http.middleware.metrics import REQUESTS

    event = UserRegistered(occurred_at=datetime.now(UTC), user_id=uuid4())
    asyncio.run(PrometheusEventPublisher().publish([event]))
    REQUESTS.labels("GET", "/health", "200").inc()
    """
)

SCRAPE = textwrap.dedent(
    """
    from entrypoints.http.routers.metrics import metrics

    print(metrics().body.decode())
    """
)


def run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_one_scrape_covers_every_worker(tmp_path: Path) -> None:
    for _ in range(2):
        run(WORKER, tmp_path)
    values = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(SCRAPE, tmp_path))
        for sample in family.samples
    }
    assert values["hexahub_registrations_total", ()] == 2
    labels = (("code", "200"), ("method", "GET"), ("route", "/health"))
    assert values["hexahub_http_requests_total", labels] == 2


GAUGES = textwrap.dedent(
    """
    import os
    import sys

    from adapters.metrics.database import POOL_CONNECTIONS
    from adapters.metrics.process import MEMORY_LIMIT, RESIDENT_MEMORY
    from adapters.metrics.sessions import ACTIVE_SESSIONS

    rss, sessions, in_use = (int(v) for v in sys.argv[1:])
    RESIDENT_MEMORY.set(rss)
    MEMORY_LIMIT.set(8 * 2**30)
    ACTIVE_SESSIONS.set(sessions)
    POOL_CONNECTIONS.labels(state="in_use").set(in_use)
    print(os.getpid())
    """
)


def gauges(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(SCRAPE, directory))
        for sample in family.samples
        if sample.name.startswith(("hexahub_process", "hexahub_memory", "hexahub_active"))
        or sample.name == "hexahub_db_pool_connections"
    }


def test_sampled_gauges_merge_into_one_value_per_instance(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(*values: int) -> int:
        done = subprocess.run(
            [sys.executable, "-c", GAUGES, *map(str, values)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(done.stdout)

    first = worker(100, 5, 2)
    worker(50, 4, 1)  # counted after the first: its session count is the newer one

    merged = gauges(tmp_path)
    # Memory and pools add up across workers; the limit and the session count (every
    # worker counts the same table) are one value, not a sum.
    assert merged["hexahub_process_resident_memory_bytes", ()] == 150
    assert merged["hexahub_memory_limit_bytes", ()] == 8 * 2**30
    assert merged["hexahub_active_sessions", ()] == 4
    assert merged["hexahub_db_pool_connections", (("state", "in_use"),)] == 3

    # A worker that stopped (the app marks it dead at shutdown) leaves every sum.
    multiprocess.mark_process_dead(first, str(tmp_path))  # type: ignore[no-untyped-call]
    remaining = gauges(tmp_path)
    assert remaining["hexahub_process_resident_memory_bytes", ()] == 50
    assert remaining["hexahub_db_pool_connections", (("state", "in_use"),)] == 1
    assert remaining["hexahub_active_sessions", ()] == 4
