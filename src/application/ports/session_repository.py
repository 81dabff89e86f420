from abc import abstractmethod
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.identity.session import AuthSession, RefreshTokenRecord


class SessionRepository(Protocol):
    """Login sessions and their refresh tokens inside one unit of work. Never commits."""

    @abstractmethod
    async def add(self, session: AuthSession) -> None: ...

    @abstractmethod
    async def update(self, session: AuthSession) -> None: ...

    @abstractmethod
    async def get(self, session_id: UUID) -> AuthSession | None: ...

    @abstractmethod
    async def list_active_for_user(self, user_id: UUID, *, now: datetime) -> list[AuthSession]:
        """Unrevoked, unexpired sessions, newest first."""

    @abstractmethod
    async def revoke_all_for_user(self, user_id: UUID, *, now: datetime, reason: str) -> list[UUID]:
        """Revoke every unrevoked, unexpired session of a user at once (one statement
        however many there are); the ids of those this call revoked, so of two racing
        calls each session is reported by one."""

    @abstractmethod
    async def count_active(self, *, now: datetime) -> int:
        """How many sessions of all users are unrevoked and unexpired at `now`: one
        aggregate query, never the rows (it feeds a gauge sampled in the background)."""

    @abstractmethod
    async def add_refresh_token(self, record: RefreshTokenRecord) -> None: ...

    @abstractmethod
    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None: ...

    @abstractmethod
    async def mark_refresh_token_rotated(self, token_hash: str, *, now: datetime) -> bool:
        """Atomically mark an unrotated token as rotated.

        Returns True for exactly one caller however many race on the same token; every
        other caller gets False. This is what makes a refresh token single-use.
        """
