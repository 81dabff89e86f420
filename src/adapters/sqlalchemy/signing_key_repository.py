from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.crypto.secret_box import FernetSecretBox
from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import SigningKeyRow
from application.errors import NotFoundError
from application.ports.signing_key_repository import SigningKeyRepository
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey


class SqlAlchemySigningKeyRepository(SigningKeyRepository):
    """Signing keys in the `signing_keys` table, inside the caller's session. Never
    commits; writes flush in a savepoint at the call.

    The private material is encrypted with `box` before it is written and decrypted on
    read (a key the box cannot open raises `SecretDecryptionError`). A taken `kid`
    raises `ConflictError`; retiring an unknown `kid` raises `NotFoundError`; retiring a
    retired key keeps its first `retired_at` (a later one would stretch how long it
    verifies).
    """

    def __init__(self, session: AsyncSession, box: FernetSecretBox) -> None:
        self._session = session
        self._box = box

    @translated
    async def add(self, key: SigningKey) -> None:
        # A Core INSERT: a row with this kid in the identity map must not fail in the ORM
        # before the database can say "taken".
        async with self._session.begin_nested():
            await self._session.execute(insert(SigningKeyRow).values(**self._to_row(key)))

    @translated
    async def retire(self, kid: str, *, now: datetime) -> None:
        row = await self._session.get(SigningKeyRow, kid, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no signing key {kid!r}")
        if row.retired_at is None:
            async with self._session.begin_nested():
                row.retired_at = now

    @translated
    async def list(self) -> list[SigningKey]:
        query = select(SigningKeyRow).order_by(
            SigningKeyRow.created_at.desc(), SigningKeyRow.kid.desc()
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [self._to_entity(row) for row in rows]

    def _to_entity(self, row: SigningKeyRow) -> SigningKey:
        return SigningKey(
            kid=row.kid,
            algorithm=KeyAlgorithm(row.algorithm),
            private_material=self._box.decrypt(row.private_material),
            public_jwk=None if row.public_jwk is None else dict(row.public_jwk),
            created_at=row.created_at,
            retired_at=row.retired_at,
        )

    def _to_row(self, key: SigningKey) -> dict[str, object]:
        return {
            "kid": key.kid,
            "algorithm": str(key.algorithm),
            "private_material": self._box.encrypt(key.private_material),
            "public_jwk": None if key.public_jwk is None else dict(key.public_jwk),
            "created_at": key.created_at,
            "retired_at": key.retired_at,
        }
