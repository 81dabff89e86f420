"""Several workers, one scrape: with `PROMETHEUS_MULTIPROC_DIR` set, `/metrics` merges
what every process counted. Real processes, since prometheus_client picks its storage
when it is first imported."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

WORKER = textwrap.dedent(
    """
    import asyncio
    from datetime import UTC, datetime
    from uuid import uuid4

    from adapters.metrics.event_publisher import PrometheusEventPublisher
    from domain.events import UserRegistered
    from entrypoints.http.middleware.metrics import REQUESTS

    event = UserRegistered(occurred_at=datetime.now(UTC), user_id=uuid4())
    asyncio.run(PrometheusEventPublisher().publish([event]))
    REQUESTS.labels("GET", "/health", "2xx").inc()
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
    labels = (("method", "GET"), ("route", "/health"), ("status_class", "2xx"))
    assert values["hexahub_http_requests_total", labels] == 2
