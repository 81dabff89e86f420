"""Process memory for Prometheus, so "memory above 80 %" is one expression:

    hexahub_process_resident_memory_bytes / hexahub_memory_limit_bytes > 0.8

prometheus_client's own `process_resident_memory_bytes` is missing under
`PROMETHEUS_MULTIPROC_DIR` (the scrape reads files, not processes), so this gauge is set
by each worker from `/proc/self/statm` and summed over live workers: the instance's
total. The limit is what the kernel enforces on the cgroup (v2 `memory.max`, v1
`memory.limit_in_bytes`, the tightest along the cgroup's path up to the root), else the
machine's memory; every worker reports the same, so the scrape shows the largest.

Both are sampled on a timer (see `adapters.metrics.sampler`): a few small reads from
procfs and cgroupfs, never at request time.
"""

import os
import resource
import sys
from pathlib import Path, PurePosixPath

from prometheus_client import Gauge

RESIDENT_MEMORY = Gauge(
    "hexahub_process_resident_memory_bytes",
    "Resident memory of the service's processes (summed over workers).",
    multiprocess_mode="livesum",
)
MEMORY_LIMIT = Gauge(
    "hexahub_memory_limit_bytes",
    "Memory the service may use: its cgroup limit, else the machine's memory.",
    multiprocess_mode="livemax",
)

PROC_STATM = Path("/proc/self/statm")
PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def sample_process() -> None:
    RESIDENT_MEMORY.set(resident_memory_bytes())
    MEMORY_LIMIT.set(memory_limit_bytes())


def resident_memory_bytes(statm: Path = PROC_STATM) -> int:
    """This process's resident set now. Where there is no procfs (macOS), the peak
    resident set instead: at least as high, the safe side for an alert."""
    try:
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes there, KiB here


def memory_limit_bytes(
    *,
    proc_cgroup: Path = PROC_CGROUP,
    cgroup_root: Path = CGROUP_ROOT,
    machine_total: int | None = None,
) -> int:
    """The tightest memory limit on this process: any cgroup v2 `memory.max` or v1
    `memory.limit_in_bytes` from its cgroup up to the hierarchy's root, capped by the
    machine's memory (v1 writes "no limit" as a huge number; v2 as `max`).

    The whole path is walked because a parent's limit binds the children too, and
    because inside a container without a cgroup namespace `/proc/self/cgroup` names the
    host's path while the container sees its own cgroup mounted as the root.
    """
    limits = [machine_total if machine_total is not None else _machine_memory()]
    for hierarchy, controllers, path in _cgroups(proc_cgroup):
        if hierarchy == "0" and not controllers:
            limits += _limits_along(cgroup_root, path, "memory.max")
        elif "memory" in controllers.split(","):
            limits += _limits_along(cgroup_root / "memory", path, "memory.limit_in_bytes")
    return min(limits)


def _cgroups(proc_cgroup: Path) -> list[tuple[str, str, str]]:
    """`/proc/self/cgroup` lines: `hierarchy-id:controllers:path`."""
    try:
        text = proc_cgroup.read_text()
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            entries.append((parts[0], parts[1], parts[2]))
    return entries


def _limits_along(base: Path, path: str, name: str) -> list[int]:
    relative = PurePosixPath(path.strip() or "/").relative_to("/")
    if ".." in relative.parts:
        return []
    limits = []
    for directory in (relative, *relative.parents):
        try:
            value = (base / directory / name).read_text().strip()
        except OSError:
            continue  # not mounted here, or the root of a v2 hierarchy (it has no limit)
        if value.isdigit():
            limits.append(int(value))
    return limits


def _machine_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
