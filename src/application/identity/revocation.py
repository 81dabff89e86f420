"""Telling every instance that sessions died, after the database says so."""

import contextlib
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.errors import ServiceUnavailableError
from application.ports.event_handler import Committed, EventHandler
from application.ports.revocation_store import RevocationStore
from application.ports.session_repository import SessionRepository
from domain.identity.events import SessionRevoked, UserDeleted
from domain.identity.session import AuthSession


class SessionRevoker(EventHandler):
    """Pushes the ids of ended sessions (`SessionRevoked`, and the sessions of a
    `UserDeleted` account) to the shared revocation store: a handler of the event
    pipeline, so every instance refuses them from the next request.

    If the store is down the revocation still holds, because every authenticated request
    also checks the session row, which was written first; so a failure here is swallowed.
    """

    def __init__(self, store: RevocationStore, *, ttl_seconds: int) -> None:
        """`ttl_seconds`: how long an access token can still verify, leeway included."""
        self._store = store
        self._ttl_seconds = ttl_seconds

    async def handle(self, events: Sequence[Committed]) -> None:
        ended: list[UUID] = []
        for committed in events:
            match committed.event:
                case SessionRevoked(session_id=session_id):
                    ended.append(session_id)
                case UserDeleted(session_ids=session_ids):
                    ended += [UUID(s) for s in session_ids]
        await self.announce(ended)

    async def announce(self, session_ids: list[UUID]) -> None:
        if not session_ids:
            return
        with contextlib.suppress(ServiceUnavailableError):
            await self._store.revoke_sessions(session_ids, ttl_seconds=self._ttl_seconds)


async def revoke_user_sessions(
    sessions: SessionRepository,
    user_id: UUID,
    *,
    now: datetime,
    reason: str,
    keep: UUID | None = None,
) -> list[AuthSession]:
    """Revoke every active session of a user except `keep`, inside the caller's unit of
    work. Returns the sessions revoked (each has recorded its `SessionRevoked`)."""
    revoked = []
    for session in await sessions.list_active_for_user(user_id, now=now):
        if session.id != keep and session.revoke(now=now, reason=reason):
            await sessions.update(session)
            revoked.append(session)
    return revoked
