from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from domain.access.api_keys import ApiKey


class ApiKeyRepository(Protocol):
    """API keys inside one unit of work. Never commits. Keys are never deleted, only
    revoked, so the audit trail can always name them."""

    @abstractmethod
    async def add(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def update(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def get(self, key_id: UUID, *, for_update: bool = False) -> ApiKey | None:
        """With `for_update`, the key stays locked until the transaction ends (so two
        first uses racing record one)."""

    @abstractmethod
    async def get_by_prefix(self, prefix: str) -> ApiKey | None: ...

    @abstractmethod
    async def list(self, *, owner_id: UUID | None) -> list[ApiKey]:
        """Keys of one owner, or of everyone when `owner_id` is None; newest first."""
