from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.ports.mfa_repository import MfaRepository
from domain.identity.mfa import TotpFactor


class InMemoryMfaRepository(MfaRepository):
    """TOTP factors in a transaction's working tables, one per user. Same contract as
    the SQL adapter (the user must exist: the foreign key; deleting the user deletes the
    factor), except that the seed is kept in plaintext: nothing here is ever written to
    disk."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def get(self, user_id: UUID, *, for_update: bool = False) -> TotpFactor | None:
        # Transactions here hold the store's lock from start to end: always "locked".
        factor = self._tables.mfa_factors.get(user_id)
        return None if factor is None else detached(factor)

    async def put(self, factor: TotpFactor) -> None:
        if factor.user_id not in self._tables.users:
            raise ValueError(f"MFA factor for unknown user {factor.user_id}")  # a foreign key
        stored = detached(factor)
        stored.created_at = utc(factor.created_at)
        stored.confirmed_at = utc_or_none(factor.confirmed_at)
        self._tables.mfa_factors[factor.user_id] = stored

    async def delete(self, user_id: UUID) -> None:
        self._tables.mfa_factors.pop(user_id, None)
