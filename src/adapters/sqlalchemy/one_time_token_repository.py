from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import OneTimeTokenRow
from application.ports.one_time_token_repository import OneTimeTokenRepository
from domain.identity.one_time_tokens import OneTimeToken, TokenPurpose


class SqlAlchemyOneTimeTokenRepository(OneTimeTokenRepository):
    """Verification and reset token digests in `one_time_tokens`, inside the caller's
    session. Never commits.

    `mark_used` is one conditional UPDATE, so the database picks the single winner among
    racing transactions: on PostgreSQL the losers wait on the row lock and then find it
    used; on SQLite writers are serialized outright.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, token: OneTimeToken) -> None:
        async with self._session.begin_nested():
            self._session.add(_to_row(token))

    @translated
    async def get(self, token_hash: str) -> OneTimeToken | None:
        # populate_existing: `mark_used` below may have changed the row since it was loaded.
        row = await self._session.get(OneTimeTokenRow, token_hash, populate_existing=True)
        return None if row is None else _to_entity(row)

    @translated
    async def mark_used(self, token_hash: str, *, now: datetime) -> bool:
        statement = (
            update(OneTimeTokenRow)
            .where(OneTimeTokenRow.token_hash == token_hash, OneTimeTokenRow.used_at.is_(None))
            .values(used_at=now)
            .returning(OneTimeTokenRow.token_hash)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.scalars(statement)).one_or_none() is not None


def _to_entity(row: OneTimeTokenRow) -> OneTimeToken:
    return OneTimeToken(
        token_hash=row.token_hash,
        purpose=TokenPurpose(row.purpose),
        user_id=row.user_id,
        binding=row.binding,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _to_row(token: OneTimeToken) -> OneTimeTokenRow:
    return OneTimeTokenRow(
        token_hash=token.token_hash,
        purpose=str(token.purpose),
        user_id=token.user_id,
        binding=token.binding,
        created_at=token.created_at,
        expires_at=token.expires_at,
        used_at=token.used_at,
    )
