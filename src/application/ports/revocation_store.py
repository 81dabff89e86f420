from abc import abstractmethod
from typing import Protocol
from uuid import UUID


class RevocationStore(Protocol):
    """Which sessions have been revoked, shared by every instance of the service.

    An entry only needs to live as long as the longest access token that could carry the
    session id; the database stays the source of truth. Raises `CacheUnavailableError`
    when the store cannot be reached, never a guess: callers then rely on the session
    row, which every revocation writes before it is announced here.
    """

    @abstractmethod
    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None: ...

    @abstractmethod
    async def is_session_revoked(self, session_id: UUID) -> bool: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise `CacheUnavailableError` when the store does not answer."""
