from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import ExternalIdentityRow
from application.ports.external_identity_repository import ExternalIdentityRepository
from domain.signin.external import ExternalIdentity


class SqlAlchemyExternalIdentityRepository(ExternalIdentityRepository):
    """Links in the `external_identities` table, inside the caller's session. Never
    commits; `add` flushes in a savepoint, so a taken link is a `ConflictError` at the
    call and the transaction stays usable."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def get(self, provider: str, subject: str) -> ExternalIdentity | None:
        row = await self._session.get(
            ExternalIdentityRow, (provider, subject), populate_existing=True
        )
        return None if row is None else _to_entity(row)

    @translated
    async def add(self, identity: ExternalIdentity) -> None:
        async with self._session.begin_nested():
            await self._session.execute(
                insert(ExternalIdentityRow).values(
                    provider=identity.provider,
                    subject=identity.subject,
                    user_id=identity.user_id,
                    email=identity.email,
                    linked_at=identity.linked_at,
                )
            )

    @translated
    async def delete(self, provider: str, subject: str) -> None:
        await self._session.execute(
            delete(ExternalIdentityRow).where(
                ExternalIdentityRow.provider == provider, ExternalIdentityRow.subject == subject
            )
        )

    @translated
    async def list_for_user(self, user_id: UUID) -> list[ExternalIdentity]:
        query = (
            select(ExternalIdentityRow)
            .where(ExternalIdentityRow.user_id == user_id)
            .order_by(
                ExternalIdentityRow.linked_at,
                ExternalIdentityRow.provider,
                ExternalIdentityRow.subject,
            )
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_entity(row) for row in rows]


def _to_entity(row: ExternalIdentityRow) -> ExternalIdentity:
    return ExternalIdentity(
        provider=row.provider,
        subject=row.subject,
        user_id=row.user_id,
        email=row.email,
        linked_at=row.linked_at,
    )
