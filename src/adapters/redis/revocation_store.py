import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar
from uuid import UUID

import structlog
from redis.asyncio import Redis

from adapters.redis.client import call
from adapters.resilience.circuit_breaker import CircuitBreaker
from application.errors import CacheUnavailableError
from application.ports.revocation_store import RevocationStore

log = structlog.get_logger()

T = TypeVar("T")


class RedisRevocationStore(RevocationStore):
    """One key per revoked session, `<prefix>revoked-session:<id>`, expiring with TTL.

    Redis expiry does the clean-up, so the store never grows past the sessions revoked
    within one access-token lifetime. The client is owned by the caller (close it with
    `aclose()`).

    Every command goes through `breaker` when given (while it is open, calls fail at
    once with `CacheUnavailableError`), and every command here is idempotent (EXISTS,
    PING, SET of a fixed value, SCAN, PTTL), so each is retried after a transient connection error.
    """

    def __init__(
        self, client: Redis, prefix: str = "hexahub:", *, breaker: CircuitBreaker | None = None
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        if not session_ids:
            return

        async def write() -> None:
            # One round trip for any number of ids. No MULTI: each SET stands alone, and
            # a partial write leaves the database check to refuse those sessions.
            async with self._client.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.set(self._key(session_id), 1, ex=ttl_seconds)
                await pipe.execute()

        await self._call("revoke_sessions", write)

    async def is_session_revoked(self, session_id: UUID) -> bool:
        found = await self._call(
            "is_session_revoked", partial(self._client.exists, self._key(session_id))
        )
        return bool(found)

    async def revoked(self) -> dict[UUID, float]:
        """Every session revoked now, with the seconds its entry has left."""
        prefix = f"{self._prefix}revoked-session:"

        async def read() -> dict[UUID, float]:
            keys = [key async for key in self._client.scan_iter(match=f"{prefix}*", count=1000)]
            if not keys:
                return {}
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pttl(key)
                ttls = await pipe.execute()
            found: dict[UUID, float] = {}
            for key, ttl in zip(keys, ttls, strict=True):
                name = key.decode() if isinstance(key, bytes) else str(key)
                if ttl > 0:  # -2: expired meanwhile; -1 never happens (always SET ... EX)
                    with contextlib.suppress(ValueError):
                        found[UUID(name.removeprefix(prefix))] = ttl / 1000
            return found

        return await self._call("revoked", read)

    async def ping(self) -> None:
        if not await self._call("ping", self._client.ping):
            raise CacheUnavailableError()

    async def _call(self, operation: str, run: Callable[[], Awaitable[T]]) -> T:
        return await call(
            run,
            breaker=self._breaker,
            idempotent=True,
            unavailable=partial(self._unavailable, operation),
        )

    def _key(self, session_id: UUID) -> str:
        return f"{self._prefix}revoked-session:{session_id}"

    @staticmethod
    def _unavailable(operation: str, error: BaseException) -> CacheUnavailableError:
        # The exception type only: redis-py messages can echo server replies, and the
        # connection URL (which may hold a password) never belongs in a log line.
        log.warning("revocation_store_unavailable", operation=operation, error=type(error).__name__)
        return CacheUnavailableError()
