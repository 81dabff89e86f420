from typing import Any
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.crypto.secret_box import FernetSecretBox
from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import MfaFactorRow, table_of
from application.ports.mfa_repository import MfaRepository
from domain.identity.mfa import TotpFactor

# Reads as Core statements built once, no ORM row: every login asks whether its user
# has a second factor.
_FACTORS = table_of(MfaFactorRow)
_GET = select(_FACTORS).where(_FACTORS.c.user_id == bindparam("user_id"))
_GET_FOR_UPDATE = _GET.with_for_update()


class SqlAlchemyMfaRepository(MfaRepository):
    """TOTP factors in `mfa_factors`, one per user, inside the caller's session. Never
    commits; writes flush in a savepoint at the call.

    The seed is encrypted with `box` before it is written and decrypted on read (a seed
    the box cannot open raises `SecretDecryptionError`). `get(for_update=True)` takes
    the row lock (SELECT ... FOR UPDATE on PostgreSQL; on SQLite, BEGIN IMMEDIATE has
    already serialized writers), so two checks of one user's code take turns and a code
    is accepted once. A factor goes away with its user (ON DELETE CASCADE).
    """

    def __init__(self, session: AsyncSession, box: FernetSecretBox) -> None:
        self._session = session
        self._box = box

    @translated
    async def get(self, user_id: UUID, *, for_update: bool = False) -> TotpFactor | None:
        query = _GET_FOR_UPDATE if for_update else _GET
        row = (await self._session.execute(query, {"user_id": user_id})).one_or_none()
        return None if row is None else self._to_entity(row)

    @translated
    async def put(self, factor: TotpFactor) -> None:
        row = await self._session.get(MfaFactorRow, factor.user_id)
        async with self._session.begin_nested():
            if row is None:
                row = MfaFactorRow(user_id=factor.user_id)
                self._session.add(row)
            self._copy_onto(row, factor)

    @translated
    async def delete(self, user_id: UUID) -> None:
        await self._session.execute(delete(MfaFactorRow).where(MfaFactorRow.user_id == user_id))

    def _to_entity(self, row: Row[Any]) -> TotpFactor:
        return TotpFactor(
            user_id=row.user_id,
            secret=self._box.decrypt(row.secret).decode("utf-8"),
            created_at=row.created_at,
            confirmed_at=row.confirmed_at,
            last_used_step=row.last_used_step,
            recovery_code_hashes=frozenset(row.recovery_code_hashes),
        )

    def _copy_onto(self, row: MfaFactorRow, factor: TotpFactor) -> None:
        # Fernet uses a fresh IV each time: the stored ciphertext changes on every put.
        row.secret = self._box.encrypt(factor.secret.encode("utf-8"))
        row.created_at = factor.created_at
        row.confirmed_at = factor.confirmed_at
        row.last_used_step = factor.last_used_step
        row.recovery_code_hashes = sorted(factor.recovery_code_hashes)
