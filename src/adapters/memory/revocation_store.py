from datetime import datetime, timedelta
from uuid import UUID

from application.ports.clock import Clock
from application.ports.revocation_store import RevocationStore


class InMemoryRevocationStore(RevocationStore):
    """Revoked session ids with an expiry per the `Clock`, in one process's memory.

    The twin of `RedisRevocationStore` for tests and single-process runs: entries past
    their expiry count as absent and are dropped lazily. Never unavailable.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._expiries: dict[UUID, datetime] = {}
        self._purge_above = 64

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        self.remember(session_ids, ttl_seconds=ttl_seconds)

    def remember(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        """`revoke_sessions` without the await, for callers that cannot (a feed's callback)."""
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        now = self._clock.now()
        self._purge(now)
        expires_at = now + timedelta(seconds=ttl_seconds)
        for session_id in session_ids:
            # Like Redis SET ... EX: a second revocation restarts the TTL.
            self._expiries[session_id] = expires_at

    async def is_session_revoked(self, session_id: UUID) -> bool:
        expires_at = self._expiries.get(session_id)
        if expires_at is None:
            return False
        if expires_at <= self._clock.now():
            del self._expiries[session_id]
            return False
        return True

    async def ping(self) -> None:
        return None

    def _purge(self, now: datetime) -> None:
        # Amortised clean-up on writes (a pass each time the entries have doubled), so
        # memory tracks live revocations and a reload of thousands stays linear.
        if len(self._expiries) < self._purge_above:
            return
        for session_id in [s for s, at in self._expiries.items() if at <= now]:
            del self._expiries[session_id]
        self._purge_above = max(64, 2 * len(self._expiries))
