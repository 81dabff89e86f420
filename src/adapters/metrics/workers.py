"""Multi-worker metric files of workers that died without a clean shutdown."""

import os
from pathlib import Path

from prometheus_client import multiprocess


def forget_dead_workers(directory: str) -> list[int]:
    """Drop the live gauges (in-flight requests, memory, breaker state) of workers that
    are gone: one killed or crashed never marked itself dead, and its last values would
    stay in every scrape (its counters stay, as they should). Returns their pids."""
    gone = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid_text = path.stem.rsplit("_", 1)[-1]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            gone.add(int(pid_text))
    for pid in gone:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
    return sorted(gone)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    return True
