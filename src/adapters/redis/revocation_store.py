from uuid import UUID

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.errors import CacheUnavailableError
from application.ports.revocation_store import RevocationStore

log = structlog.get_logger()

# redis-py wraps most socket failures in RedisError, but a few (a refused TLS handshake,
# an asyncio timeout around a read) can surface raw.
_UNAVAILABLE = (RedisError, OSError, TimeoutError)


class RedisRevocationStore(RevocationStore):
    """One key per revoked session, `<prefix>revoked-session:<id>`, expiring with TTL.

    Redis expiry does the clean-up, so the store never grows past the sessions revoked
    within one access-token lifetime. The client is owned by the caller (close it with
    `aclose()`).
    """

    def __init__(self, client: Redis, prefix: str = "hexahub:") -> None:
        self._client = client
        self._prefix = prefix

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        if not session_ids:
            return
        try:
            # One round trip for any number of ids. No MULTI: each SET stands alone, and
            # a partial write leaves the database check to refuse those sessions.
            async with self._client.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.set(self._key(session_id), 1, ex=ttl_seconds)
                await pipe.execute()
        except _UNAVAILABLE as error:
            raise self._unavailable("revoke_sessions", error) from error

    async def is_session_revoked(self, session_id: UUID) -> bool:
        try:
            return bool(await self._client.exists(self._key(session_id)))
        except _UNAVAILABLE as error:
            raise self._unavailable("is_session_revoked", error) from error

    async def ping(self) -> None:
        try:
            answered = await self._client.ping()
        except _UNAVAILABLE as error:
            raise self._unavailable("ping", error) from error
        if not answered:
            raise CacheUnavailableError()

    def _key(self, session_id: UUID) -> str:
        return f"{self._prefix}revoked-session:{session_id}"

    @staticmethod
    def _unavailable(operation: str, error: BaseException) -> CacheUnavailableError:
        # The exception type only: redis-py messages can echo server replies, and the
        # connection URL (which may hold a password) never belongs in a log line.
        log.warning("revocation_store_unavailable", operation=operation, error=type(error).__name__)
        return CacheUnavailableError()
