"""Cache-aside for the releases context's hot reads: a release by id and the
environment list, read through the shared two-tier `Cache` under `release:<id>` and
`environments:all`, and dropped after commit by `ReleaseCacheInvalidation`, a handler
of the event pipeline, on every instance.

A load that raced a write never stores what it read (the cache's stamps), and
concurrent misses of one key in one process cause one database read.
"""

import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.caching.single_flight import SingleFlight
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache, CacheEntry
from application.ports.event_handler import Committed, EventHandler
from application.ports.unit_of_work_factory import TransactionFactory
from domain.releases.environment import Environment
from domain.releases.events import ReleaseNotesChanged, ReleaseStatusChanged
from domain.releases.release import Release, ReleaseStatus
from domain.releases.values import EnvironmentName, SemVer, ServiceName

T = TypeVar("T")
ENVIRONMENTS_KEY = "environments:all"
DEFAULT_TTL_SECONDS = 600.0


def release_key(release_id: UUID) -> str:
    return f"release:{release_id}"


class ReleaseCache:
    def __init__(
        self, cache: Cache, reads: TransactionFactory, *, ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self._cache = cache
        self._reads = reads
        self._ttl = ttl_seconds
        self._flights = SingleFlight()

    async def release(self, release_id: UUID) -> Release | None:
        async def load() -> Release | None:
            async with self._reads() as tx:
                return await tx.releases.get(release_id)

        return await self._read(release_key(release_id), load, _encode_release, _decode_release)

    async def environments(self) -> list[Environment]:
        async def load() -> list[Environment]:
            async with self._reads() as tx:
                return await tx.environments.list()

        found = await self._read(ENVIRONMENTS_KEY, load, _encode_environments, _decode_environments)
        return found or []

    async def _read(
        self,
        key: str,
        load: Callable[[], Awaitable[T | None]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T | None:
        try:
            entry: CacheEntry | None = await self._cache.get(key)
        except ServiceUnavailableError:
            entry = None  # the database answers instead
        if entry is not None and entry.value is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                return decode(entry.value)  # else written by another version: reload

        async def load_and_store() -> T | None:
            value = await load()
            if value is not None and entry is not None:
                with contextlib.suppress(ServiceUnavailableError):
                    await self._cache.set(
                        key, encode(value), ttl_seconds=self._ttl, stamp=entry.stamp
                    )
            return value

        # Keyed by the stamp: a read after an invalidation never joins an older load.
        stamp = entry.stamp if entry is not None else "unavailable"
        return await self._flights.run(f"{key}#{stamp}", load_and_store)


class ReleaseCacheInvalidation(EventHandler):
    """Drops the cached release or environment list a committed change made stale, in
    every tier of every instance (the `Cache` promises that). Idempotent. Which events
    come here is the handler table's `STALE_RELEASE_CACHE`."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def handle(self, events: Sequence[Committed]) -> None:
        keys = {_stale_key(c.event) for c in events}
        with contextlib.suppress(ServiceUnavailableError):  # kept and retried by the cache
            await self._cache.invalidate(keys)


def _stale_key(event: object) -> str:
    if isinstance(event, ReleaseStatusChanged | ReleaseNotesChanged):
        return release_key(event.release_id)
    return ENVIRONMENTS_KEY


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(value)


def _encode_release(release: Release) -> bytes:
    return json.dumps(
        {
            "id": str(release.id),
            "name": release.name.value,
            "version": release.version.value,
            "status": release.status.value,
            "notes": release.notes,
            "created_by": None if release.created_by is None else str(release.created_by),
            "created_at": _time(release.created_at),
            "updated_at": _time(release.updated_at),
        },
        separators=(",", ":"),
    ).encode()


def _decode_release(raw: bytes) -> Release:
    data = json.loads(raw)
    return Release(
        id=UUID(data["id"]),
        name=ServiceName(data["name"]),
        version=SemVer(data["version"]),
        status=ReleaseStatus(data["status"]),
        notes=data["notes"],
        created_by=_uuid(data["created_by"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def _encode_environments(environments: list[Environment]) -> bytes:
    return json.dumps(
        [
            {
                "name": e.name.value,
                "protected": e.protected,
                "requires": list(e.requires),
                "position": e.position,
                "created_at": _time(e.created_at),
                "updated_at": _time(e.updated_at),
                "current_release_id": None
                if e.current_release_id is None
                else str(e.current_release_id),
                "current_version": e.current_version,
                "current_deployment_id": None
                if e.current_deployment_id is None
                else str(e.current_deployment_id),
            }
            for e in environments
        ],
        separators=(",", ":"),
    ).encode()


def _decode_environments(raw: bytes) -> list[Environment]:
    return [
        Environment(
            name=EnvironmentName(d["name"]),
            protected=bool(d["protected"]),
            requires=tuple(d["requires"]),
            position=int(d["position"]),
            created_at=datetime.fromisoformat(d["created_at"]),
            updated_at=datetime.fromisoformat(d["updated_at"]),
            current_release_id=_uuid(d["current_release_id"]),
            current_version=d["current_version"],
            current_deployment_id=_uuid(d["current_deployment_id"]),
        )
        for d in json.loads(raw)
    ]
