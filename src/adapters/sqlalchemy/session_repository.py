from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import RefreshTokenRow, SessionRow, table_of
from application.errors import SessionNotFoundError
from application.ports.session_repository import SessionRepository
from domain.identity.session import AuthSession, RefreshTokenRecord

# What every login writes, as plain Core INSERTs built once: no flush of the session's
# unit of work and nothing kept in its identity map (a later read in the same
# transaction reads the row back).
_ADD_SESSION = insert(table_of(SessionRow))
_ADD_REFRESH_TOKEN = insert(table_of(RefreshTokenRow))


class SqlAlchemySessionRepository(SessionRepository):
    """Login sessions (`sessions`) and refresh-token digests (`refresh_tokens`) inside
    the caller's session. Never commits; writes reach the database at the call.

    `mark_refresh_token_rotated` is one conditional UPDATE, so the database decides which
    of several racing transactions rotates a token: on PostgreSQL the losers wait on the
    row lock and then see it rotated; on SQLite writers are serialized outright.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, session: AuthSession) -> None:
        # No savepoint: nothing recovers from a failed insert within the transaction,
        # and a login is two statements shorter without one.
        await self._session.execute(_ADD_SESSION, _session_values(session))

    @translated
    async def update(self, session: AuthSession) -> None:
        row = await self._session.get(SessionRow, session.id)
        if row is None:
            raise SessionNotFoundError()
        _copy_session_onto(row, session)
        await self._session.flush()

    @translated
    async def get(self, session_id: UUID) -> AuthSession | None:
        row = await self._session.get(SessionRow, session_id)
        return None if row is None else _session_to_entity(row)

    @translated
    async def list_active_for_user(self, user_id: UUID, *, now: datetime) -> list[AuthSession]:
        query = (
            select(SessionRow)
            .where(
                SessionRow.user_id == user_id,
                SessionRow.revoked_at.is_(None),
                SessionRow.expires_at > now,
            )
            .order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        )
        return [_session_to_entity(row) for row in await self._session.scalars(query)]

    @translated
    async def count_active(self, *, now: datetime) -> int:
        query = (
            select(func.count())
            .select_from(SessionRow)
            .where(SessionRow.revoked_at.is_(None), SessionRow.expires_at > now)
        )
        return int(await self._session.scalar(query) or 0)

    @translated
    async def revoke_all_for_user(self, user_id: UUID, *, now: datetime, reason: str) -> list[UUID]:
        statement = (
            update(SessionRow)
            .where(
                SessionRow.user_id == user_id,
                SessionRow.revoked_at.is_(None),
                SessionRow.expires_at > now,
            )
            .values(revoked_at=now, revoked_reason=reason)
            .returning(SessionRow.id)
            .execution_options(synchronize_session=False)
        )
        return list((await self._session.scalars(statement)).all())

    @translated
    async def add_refresh_token(self, record: RefreshTokenRecord) -> None:
        await self._session.execute(
            _ADD_REFRESH_TOKEN,
            {
                "token_hash": record.token_hash,
                "session_id": record.session_id,
                "created_at": record.created_at,
                "expires_at": record.expires_at,
                "rotated_at": record.rotated_at,
            },
        )

    @translated
    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        # populate_existing: the row may have been rotated by the UPDATE below since it
        # was last loaded into this session.
        row = await self._session.get(RefreshTokenRow, token_hash, populate_existing=True)
        if row is None:
            return None
        return RefreshTokenRecord(
            token_hash=row.token_hash,
            session_id=row.session_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            rotated_at=row.rotated_at,
        )

    @translated
    async def mark_refresh_token_rotated(self, token_hash: str, *, now: datetime) -> bool:
        statement = (
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == token_hash, RefreshTokenRow.rotated_at.is_(None))
            .values(rotated_at=now)
            .returning(RefreshTokenRow.token_hash)
            .execution_options(synchronize_session=False)
        )
        changed = (await self._session.scalars(statement)).all()
        return len(changed) == 1


def _session_to_entity(row: SessionRow) -> AuthSession:
    return AuthSession(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        ip=row.ip,
        user_agent=row.user_agent,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )


def _session_values(session: AuthSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "revoked_at": session.revoked_at,
        "revoked_reason": session.revoked_reason,
    }


def _copy_session_onto(row: SessionRow, session: AuthSession) -> None:
    for name, value in _session_values(session).items():
        if name not in ("id", "user_id"):  # the identity of the row, never rewritten
            setattr(row, name, value)
