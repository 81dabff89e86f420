"""The in-process cache of processes that share one SQLite file and no Redis: the
workers of `WORKERS` > 1, and a CLI beside a running server.

They cannot tell each other which keys changed, but they can all see one number: a
counter in a small file beside the database, mapped into each process's memory. Every
invalidation adds one to it (under a file lock), and every read compares it with the
value this process last saw: on a change, the whole in-process cache is dropped and
every read in flight refused (`InProcessCache.clear`). An invalidation happens after its
commit and before the request that made it answers, so the next request, whichever
process takes it, sees the new number. Coarse (any write empties every sibling's
cache), but a read costs one look at shared memory instead of a database round trip.

Where SQLite's write-ahead log works, this does too: both rest on memory shared
between processes of one machine (WAL's `-shm` file is mapped the same way).
"""

import fcntl
import mmap
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.memory.cache import InProcessCache
from application.ports.cache import CacheEntry

_SIZE = 8


class SharedCounter:
    """A 64-bit counter in a file, read through shared memory and raised under an
    exclusive lock on the file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with self._locked():
            if os.fstat(self._fd).st_size < _SIZE:
                os.ftruncate(self._fd, _SIZE)
        self._memory = mmap.mmap(self._fd, _SIZE)

    def read(self) -> int:
        return int.from_bytes(self._memory[:_SIZE], "little")

    def raise_by_one(self) -> int:
        """The new value."""
        with self._locked():
            value = self.read() + 1
            self._memory[:_SIZE] = value.to_bytes(_SIZE, "little")
        return value

    def close(self) -> None:
        self._memory.close()
        os.close(self._fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class SiblingCache(InProcessCache):
    """An `InProcessCache` that drops everything whenever any process sharing `generation`
    invalidated anything since this one last looked."""

    def __init__(self, generation: SharedCounter, **options: Any) -> None:
        super().__init__(**options)
        self._generation = generation
        self._seen = generation.read()

    def get_now(self, key: str) -> CacheEntry:
        self._catch_up()
        return super().get_now(key)

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        # A value read before a sibling's invalidation is refused: catching up clears.
        self._catch_up()
        await super().set(key, value, ttl_seconds=ttl_seconds, stamp=stamp)

    def invalidate_now(self, keys: Collection[str]) -> None:
        super().invalidate_now(keys)
        value = self._generation.raise_by_one()
        if value != self._seen + 1:  # a sibling invalidated too, unseen until now
            self.clear()
        self._seen = value

    def _catch_up(self) -> None:
        current = self._generation.read()
        if current != self._seen:
            self.clear()
            self._seen = current
