"""A worker that died without shutting down cleanly leaves no live gauge behind."""

import subprocess
import sys
from pathlib import Path


def test_live_gauges_of_dead_workers_are_dropped_and_counters_kept(tmp_path: Path) -> None:
    # A separate process writes multiprocess files (the directory must be set before
    # prometheus_client is imported) and exits without marking itself dead.
    script = (
        "from prometheus_client import Counter, Gauge\n"
        "Gauge('g', 'g', multiprocess_mode='livesum').set(7)\n"
        "Counter('c', 'c').inc()\n"
    )
    dead = subprocess.run(
        [sys.executable, "-c", script],
        env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
        check=True,
    )
    assert dead.returncode == 0
    before = {p.name for p in tmp_path.iterdir()}
    assert any(name.startswith("gauge_livesum_") for name in before)

    from adapters.metrics.workers import forget_dead_workers

    forgotten = forget_dead_workers(str(tmp_path))

    after = {p.name for p in tmp_path.iterdir()}
    assert len(forgotten) == 1
    assert not any(name.startswith("gauge_livesum_") for name in after)
    assert any(name.startswith("counter_") for name in after)


def test_a_living_workers_gauges_stay(tmp_path: Path) -> None:
    import os

    live = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    live.write_bytes(b"")
    from adapters.metrics.workers import forget_dead_workers

    assert forget_dead_workers(str(tmp_path)) == []
    assert live.exists()
