from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import SessionNotFoundError
from application.ports.session_repository import SessionRepository
from domain.identity.session import AuthSession, RefreshTokenRecord


class InMemorySessionRepository(SessionRepository):
    """Sessions and refresh-token digests in a transaction's working tables.

    Rotation is atomic because the store lets one transaction run at a time: the first
    caller sees the token unrotated and marks it; every later one sees it rotated.
    """

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, session: AuthSession) -> None:
        if session.id in self._tables.sessions:
            raise ValueError(f"duplicate session id {session.id}")
        if session.user_id not in self._tables.users:
            raise ValueError(f"session for unknown user {session.user_id}")  # a foreign key
        self._tables.sessions[session.id] = _stored(session)

    async def update(self, session: AuthSession) -> None:
        current = self._tables.sessions.get(session.id)
        if current is None:
            raise SessionNotFoundError()
        stored = _stored(session)
        stored.user_id = current.user_id  # the SQL adapter never moves a session either
        self._tables.sessions[session.id] = stored

    async def get(self, session_id: UUID) -> AuthSession | None:
        session = self._tables.sessions.get(session_id)
        return None if session is None else detached(session)

    async def list_active_for_user(self, user_id: UUID, *, now: datetime) -> list[AuthSession]:
        active = [
            s
            for s in self._tables.sessions.values()
            if s.user_id == user_id and s.revoked_at is None and s.expires_at > now
        ]
        active.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return [detached(s) for s in active]

    async def revoke_all_for_user(self, user_id: UUID, *, now: datetime, reason: str) -> list[UUID]:
        revoked = []
        for session in list(self._tables.sessions.values()):
            if session.user_id == user_id and session.is_active(now):
                ended = detached(session)
                ended.revoked_at, ended.revoked_reason = utc(now), reason
                self._tables.sessions[session.id] = ended
                revoked.append(session.id)
        return revoked

    async def count_active(self, *, now: datetime) -> int:
        return sum(1 for s in self._tables.sessions.values() if s.is_active(now))

    async def add_refresh_token(self, record: RefreshTokenRecord) -> None:
        if record.token_hash in self._tables.refresh_tokens:
            raise ValueError("duplicate refresh token digest")
        if record.session_id not in self._tables.sessions:
            raise ValueError(f"refresh token for unknown session {record.session_id}")
        self._tables.refresh_tokens[record.token_hash] = replace(
            record,
            created_at=utc(record.created_at),
            expires_at=utc(record.expires_at),
            rotated_at=utc_or_none(record.rotated_at),
        )

    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        return self._tables.refresh_tokens.get(token_hash)  # frozen: safe to share

    async def mark_refresh_token_rotated(self, token_hash: str, *, now: datetime) -> bool:
        record = self._tables.refresh_tokens.get(token_hash)
        if record is None or record.rotated_at is not None:
            return False
        self._tables.refresh_tokens[token_hash] = replace(record, rotated_at=utc(now))
        return True


def _stored(session: AuthSession) -> AuthSession:
    stored = detached(session)
    stored.created_at = utc(session.created_at)
    stored.last_used_at = utc(session.last_used_at)
    stored.expires_at = utc(session.expires_at)
    stored.revoked_at = utc_or_none(session.revoked_at)
    return stored
