from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import ApiKeyRow
from application.errors import ApiKeyNotFoundError
from application.ports.api_key_repository import ApiKeyRepository
from domain.access.api_keys import ApiKey
from domain.access.permissions import Permission


class SqlAlchemyApiKeyRepository(ApiKeyRepository):
    """API keys in the `api_keys` table (digest only), inside the caller's session.

    Never commits; writes flush in a savepoint at the call. Keys go away only with their
    owner (ON DELETE CASCADE). Reads return fresh entities mapped from rows.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, key: ApiKey) -> None:
        async with self._session.begin_nested():
            self._session.add(_to_row(key))

    @translated
    async def update(self, key: ApiKey) -> None:
        row = await self._session.get(ApiKeyRow, key.id)
        if row is None:
            raise ApiKeyNotFoundError()
        async with self._session.begin_nested():
            _copy_onto(row, key)

    @translated
    async def get(self, key_id: UUID, *, for_update: bool = False) -> ApiKey | None:
        row = await self._session.get(
            ApiKeyRow, key_id, populate_existing=True, with_for_update=for_update or None
        )
        return None if row is None else _to_entity(row)

    @translated
    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        query = select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)
        row = (
            await self._session.scalars(query.execution_options(populate_existing=True))
        ).one_or_none()
        return None if row is None else _to_entity(row)

    @translated
    async def list(self, *, owner_id: UUID | None) -> list[ApiKey]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id.desc())
        if owner_id is not None:
            query = query.where(ApiKeyRow.owner_id == owner_id)
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_entity(row) for row in rows]


def _to_entity(row: ApiKeyRow) -> ApiKey:
    # A scope the code no longer knows grants nothing (least privilege), never an error.
    known = {p.value for p in Permission}
    return ApiKey(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        prefix=row.prefix,
        secret_hash=row.secret_hash,
        scopes=frozenset(Permission(s) for s in row.scopes if s in known),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _to_row(key: ApiKey) -> ApiKeyRow:
    row = ApiKeyRow(id=key.id, owner_id=key.owner_id, prefix=key.prefix, created_at=key.created_at)
    _copy_onto(row, key)
    return row


def _copy_onto(row: ApiKeyRow, key: ApiKey) -> None:
    # Identity, owner, prefix and creation never change; the rest may.
    row.name = key.name
    row.secret_hash = key.secret_hash
    row.scopes = sorted(str(s) for s in key.scopes)
    row.expires_at = key.expires_at
    row.last_used_at = key.last_used_at
    row.revoked_at = key.revoked_at
