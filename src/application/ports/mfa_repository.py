from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from domain.identity.mfa import TotpFactor


class MfaRepository(Protocol):
    """TOTP factors inside one unit of work, one per user. Never commits. The secret is
    stored encrypted with a key from settings; reads return it decrypted."""

    @abstractmethod
    async def get(self, user_id: UUID, *, for_update: bool = False) -> TotpFactor | None:
        """With `for_update`, locked until the transaction ends (codes are single-use)."""

    @abstractmethod
    async def put(self, factor: TotpFactor) -> None:
        """Insert or replace the user's factor."""

    @abstractmethod
    async def delete(self, user_id: UUID) -> None: ...
