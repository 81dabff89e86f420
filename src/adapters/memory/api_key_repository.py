from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import ApiKeyNotFoundError, ConflictError
from application.ports.api_key_repository import ApiKeyRepository
from domain.access.api_keys import ApiKey


class InMemoryApiKeyRepository(ApiKeyRepository):
    """API keys in a transaction's working tables. Same contract as the SQL adapter:
    unique prefixes (`ConflictError`), an owner that exists (the foreign key), detached
    copies in and out; owner, prefix and creation time never change on `update`."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, key: ApiKey) -> None:
        if key.id in self._tables.api_keys:
            raise ValueError(f"duplicate API key id {key.id}")
        if key.owner_id not in self._tables.users:
            raise ValueError(f"API key for unknown user {key.owner_id}")  # a foreign key
        if any(k.prefix == key.prefix for k in self._tables.api_keys.values()):
            raise ConflictError()
        self._tables.api_keys[key.id] = _stored(key)

    async def update(self, key: ApiKey) -> None:
        current = self._tables.api_keys.get(key.id)
        if current is None:
            raise ApiKeyNotFoundError()
        stored = _stored(key)
        stored.owner_id = current.owner_id
        stored.prefix = current.prefix
        stored.created_at = current.created_at
        self._tables.api_keys[key.id] = stored

    async def get(self, key_id: UUID, *, for_update: bool = False) -> ApiKey | None:
        # Transactions here hold the store's lock from start to end: always "locked".
        key = self._tables.api_keys.get(key_id)
        return None if key is None else detached(key)

    async def get_by_prefix(self, prefix: str) -> ApiKey | None:
        for key in self._tables.api_keys.values():
            if key.prefix == prefix:
                return detached(key)
        return None

    async def list(self, *, owner_id: UUID | None) -> list[ApiKey]:
        keys = [
            k for k in self._tables.api_keys.values() if owner_id is None or k.owner_id == owner_id
        ]
        keys.sort(key=lambda k: (k.created_at, k.id), reverse=True)
        return [detached(k) for k in keys]


def _stored(key: ApiKey) -> ApiKey:
    stored = detached(key)
    stored.created_at = utc(key.created_at)
    stored.expires_at = utc_or_none(key.expires_at)
    stored.last_used_at = utc_or_none(key.last_used_at)
    stored.revoked_at = utc_or_none(key.revoked_at)
    return stored
