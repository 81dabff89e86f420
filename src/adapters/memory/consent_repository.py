from uuid import UUID

from adapters.memory.store import Tables, detached, utc
from application.ports.consent_repository import ConsentRepository
from domain.signin.authorization import Consent


class InMemoryConsentRepository(ConsentRepository):
    """Consents in a transaction's working tables; same contract as the SQL adapter."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def get(self, user_id: UUID, client_id: str) -> Consent | None:
        consent = self._tables.consents.get((user_id, client_id))
        return None if consent is None else detached(consent)

    async def put(self, consent: Consent) -> None:
        stored = detached(consent)
        stored.granted_at = utc(consent.granted_at)
        self._tables.consents[(consent.user_id, consent.client_id)] = stored

    async def delete(self, user_id: UUID, client_id: str) -> None:
        self._tables.consents.pop((user_id, client_id), None)

    async def list_for_user(self, user_id: UUID) -> list[Consent]:
        mine = [c for (owner, _), c in self._tables.consents.items() if owner == user_id]
        mine.sort(key=lambda c: (c.granted_at, c.client_id), reverse=True)
        return [detached(c) for c in mine]
