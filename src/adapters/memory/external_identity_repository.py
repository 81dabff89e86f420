from uuid import UUID

from adapters.memory.store import Tables, detached, utc
from application.errors import ConflictError
from application.ports.external_identity_repository import ExternalIdentityRepository
from domain.signin.external import ExternalIdentity


class InMemoryExternalIdentityRepository(ExternalIdentityRepository):
    """Links in a transaction's working tables; same contract as the SQL adapter."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def get(self, provider: str, subject: str) -> ExternalIdentity | None:
        found = self._tables.external_identities.get((provider, subject))
        return None if found is None else detached(found)

    async def add(self, identity: ExternalIdentity) -> None:
        key = (identity.provider, identity.subject)
        if key in self._tables.external_identities:
            raise ConflictError()
        stored = detached(identity)
        stored.linked_at = utc(identity.linked_at)
        self._tables.external_identities[key] = stored

    async def delete(self, provider: str, subject: str) -> None:
        self._tables.external_identities.pop((provider, subject), None)

    async def list_for_user(self, user_id: UUID) -> list[ExternalIdentity]:
        mine = [i for i in self._tables.external_identities.values() if i.user_id == user_id]
        mine.sort(key=lambda i: (i.linked_at, i.provider, i.subject))
        return [detached(i) for i in mine]
