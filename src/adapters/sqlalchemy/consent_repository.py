from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import ConsentRow
from application.ports.consent_repository import ConsentRepository
from domain.signin.authorization import Consent


class SqlAlchemyConsentRepository(ConsentRepository):
    """Consents in the `consents` table, inside the caller's session. Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def get(self, user_id: UUID, client_id: str) -> Consent | None:
        row = await self._session.get(ConsentRow, (user_id, client_id), populate_existing=True)
        return None if row is None else _to_entity(row)

    @translated
    async def put(self, consent: Consent) -> None:
        row = await self._session.get(ConsentRow, (consent.user_id, consent.client_id))
        if row is None:
            self._session.add(
                ConsentRow(
                    user_id=consent.user_id,
                    client_id=consent.client_id,
                    scopes=sorted(consent.scopes),
                    granted_at=consent.granted_at,
                )
            )
        else:
            row.scopes = sorted(consent.scopes)
            row.granted_at = consent.granted_at
        await self._session.flush()

    @translated
    async def delete(self, user_id: UUID, client_id: str) -> None:
        await self._session.execute(
            delete(ConsentRow).where(
                ConsentRow.user_id == user_id, ConsentRow.client_id == client_id
            )
        )

    @translated
    async def list_for_user(self, user_id: UUID) -> list[Consent]:
        query = (
            select(ConsentRow)
            .where(ConsentRow.user_id == user_id)
            .order_by(ConsentRow.granted_at.desc(), ConsentRow.client_id.desc())
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_entity(row) for row in rows]


def _to_entity(row: ConsentRow) -> Consent:
    return Consent(
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes),
        granted_at=row.granted_at,
    )
