"""Processes sharing a SQLite file keep in-process caches that any of them can empty:
each invalidation raises a counter all of them map, and a cache that sees it moved
drops everything it holds."""

import asyncio
import sys
from pathlib import Path

import pytest

from adapters.memory.sibling_cache import SharedCounter, SiblingCache


@pytest.fixture
def counter_path(tmp_path: Path) -> Path:
    return tmp_path / "hexahub.db-cache-generation"


def sibling(path: Path) -> SiblingCache:
    # Each with its own mapping of the file, as each process has.
    return SiblingCache(SharedCounter(path), max_entries=100)


async def cached(cache: SiblingCache, key: str, value: bytes) -> None:
    entry = await cache.get(key)
    await cache.set(key, value, ttl_seconds=60, stamp=entry.stamp)
    assert (await cache.get(key)).value == value


async def test_a_siblings_invalidation_empties_this_cache(counter_path: Path) -> None:
    here, there = sibling(counter_path), sibling(counter_path)
    await cached(here, "user:1", b"ada")
    await cached(here, "user:2", b"grace")
    await there.invalidate({"user:1"})
    assert (await here.get("user:1")).value is None
    assert (await here.get("user:2")).value is None  # coarse: everything goes


async def test_a_read_that_raced_a_siblings_invalidation_is_not_kept(counter_path: Path) -> None:
    here, there = sibling(counter_path), sibling(counter_path)
    before = await here.get("user:1")  # a load starts
    await there.invalidate({"user:1"})  # a sibling commits a change meanwhile
    await here.set("user:1", b"stale", ttl_seconds=60, stamp=before.stamp)
    assert (await here.get("user:1")).value is None


async def test_its_own_invalidation_keeps_the_rest_unless_a_sibling_wrote_too(
    counter_path: Path,
) -> None:
    here, there = sibling(counter_path), sibling(counter_path)
    await cached(here, "user:1", b"ada")
    await cached(here, "user:2", b"grace")
    await here.invalidate({"user:1"})
    assert (await here.get("user:1")).value is None
    assert (await here.get("user:2")).value == b"grace"

    await there.invalidate({"user:9"})
    await here.invalidate({"user:3"})  # without a read in between: still caught
    assert (await here.get("user:2")).value is None


async def test_another_process_raising_the_counter_empties_this_cache(
    counter_path: Path,
) -> None:
    here = sibling(counter_path)
    await cached(here, "user:1", b"ada")
    raised = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from pathlib import Path; "
        "from adapters.memory.sibling_cache import SharedCounter; "
        "print(SharedCounter(Path(sys.argv[1])).raise_by_one())",
        str(counter_path),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await raised.communicate()
    assert raised.returncode == 0
    assert int(out) == 1
    assert (await here.get("user:1")).value is None


def test_the_counter_survives_its_processes(counter_path: Path) -> None:
    first = SharedCounter(counter_path)
    first.raise_by_one()
    first.raise_by_one()
    first.close()
    assert SharedCounter(counter_path).read() == 2
