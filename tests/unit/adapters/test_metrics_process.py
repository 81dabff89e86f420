"""Reading memory use and the memory limit from procfs and cgroupfs, on fake trees."""

import os
from pathlib import Path

from adapters.metrics.process import memory_limit_bytes, resident_memory_bytes

GIB = 2**30
MACHINE = 24 * GIB


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def limit(tmp_path: Path, proc_cgroup: str | None) -> int:
    proc = tmp_path / "proc_self_cgroup"
    if proc_cgroup is not None:
        proc.write_text(proc_cgroup)
    return memory_limit_bytes(
        proc_cgroup=proc, cgroup_root=tmp_path / "cgroup", machine_total=MACHINE
    )


def test_v2_takes_the_tightest_limit_on_the_path_to_the_root(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / "system.slice" / "memory.max", str(4 * GIB))
    write(root / "system.slice" / "hexahub.service" / "memory.max", "max\n")
    write(root / "system.slice" / "hexahub.service" / "worker" / "memory.max", str(6 * GIB))
    write(root / "user.slice" / "memory.max", str(1 * GIB))  # another branch: ignored

    assert limit(tmp_path, "0::/system.slice/hexahub.service/worker\n") == 4 * GIB


def test_v2_in_a_container_reads_its_own_root(tmp_path: Path) -> None:
    write(tmp_path / "cgroup" / "memory.max", "536870912\n")
    assert limit(tmp_path, "0::/\n") == 512 * 2**20


def test_v2_without_a_limit_is_the_machine(tmp_path: Path) -> None:
    write(tmp_path / "cgroup" / "memory.max", "max\n")
    assert limit(tmp_path, "0::/\n") == MACHINE


def test_v1_reads_the_memory_hierarchy_and_treats_its_huge_default_as_none(
    tmp_path: Path,
) -> None:
    memory = tmp_path / "cgroup" / "memory"
    write(memory / "memory.limit_in_bytes", "9223372036854771712\n")
    write(memory / "docker" / "abc" / "memory.limit_in_bytes", str(2 * GIB))
    lines = "12:pids:/docker/abc\n4:cpuacct,memory:/docker/abc\n0::/\n"
    assert limit(tmp_path, lines) == 2 * GIB

    write(memory / "docker" / "abc" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert limit(tmp_path, lines) == MACHINE


def test_a_host_path_not_mounted_in_the_container_falls_back_to_the_root(
    tmp_path: Path,
) -> None:
    # No cgroup namespace: /proc names the host's path, the container sees its own
    # cgroup as the root of the mount.
    write(tmp_path / "cgroup" / "memory" / "memory.limit_in_bytes", str(3 * GIB))
    assert limit(tmp_path, "4:memory:/kubepods/pod1/c0ffee\n") == 3 * GIB


def test_no_cgroup_information_means_the_machine(tmp_path: Path) -> None:
    assert limit(tmp_path, None) == MACHINE
    assert limit(tmp_path, "garbage\n0::/../../etc\n") == MACHINE


def test_the_real_machine_reports_a_limit_no_larger_than_its_memory() -> None:
    machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < memory_limit_bytes() <= machine


def test_resident_memory_is_the_second_statm_field_in_pages(tmp_path: Path) -> None:
    statm = tmp_path / "statm"
    statm.write_text("765 425 397 5 0 123 0\n")
    assert resident_memory_bytes(statm) == 425 * os.sysconf("SC_PAGE_SIZE")


def test_without_procfs_the_peak_resident_set_stands_in(tmp_path: Path) -> None:
    # The kernel updates the peak lazily, so it may trail the current value a little;
    # the units must agree (getrusage reports KiB on Linux).
    now = resident_memory_bytes()
    assert now / 2 < resident_memory_bytes(tmp_path / "missing") < now * 2
