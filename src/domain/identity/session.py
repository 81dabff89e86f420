"""Login sessions and the refresh tokens that keep them alive."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.identity.events import RefreshReuseDetected, SessionRefreshed, SessionRevoked


@dataclass(eq=False, kw_only=True)
class AuthSession(Aggregate):
    """One login on one device: the family of every refresh token rotated from it.

    Revoking the session kills all its refresh tokens and every access token carrying
    its id (`sid`).
    """

    id: UUID
    user_id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None = None
    user_agent: str | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthSession) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def refreshed(self, *, now: datetime, expires_at: datetime) -> None:
        """Sliding expiry: each rotation extends the session by one refresh lifetime."""
        self.last_used_at = now
        self.expires_at = expires_at
        self.record(SessionRefreshed(occurred_at=now, user_id=self.user_id, session_id=self.id))

    def revoke(self, *, now: datetime, reason: str) -> bool:
        """Revoke once; return False when it was already revoked."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.revoked_reason = reason
        self.record(
            SessionRevoked(occurred_at=now, user_id=self.user_id, session_id=self.id, reason=reason)
        )
        return True

    def revoke_for_reuse(self, *, now: datetime) -> bool:
        """A rotated refresh token was presented again (OAuth 2.0 Security BCP §4.14.2):
        it may be stolen, so the whole family dies. False when already revoked."""
        if self.revoked_at is not None:
            return False
        self.record(RefreshReuseDetected(occurred_at=now, user_id=self.user_id, session_id=self.id))
        return self.revoke(now=now, reason="refresh_reuse")


@dataclass(frozen=True, kw_only=True, slots=True)
class RefreshTokenRecord:
    """A refresh token as stored: only its hash, never the token itself."""

    token_hash: str
    session_id: UUID
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None
