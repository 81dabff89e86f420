from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import AuthorizationCodeRow
from application.ports.authorization_code_repository import AuthorizationCodeRepository
from domain.signin.authorization import AuthorizationCode


class SqlAlchemyAuthorizationCodeRepository(AuthorizationCodeRepository):
    """Codes in the `authorization_codes` table (digest only), inside the caller's
    session. `for_update` is SELECT ... FOR UPDATE on Postgres (SQLite serializes
    writers anyway). Never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, code: AuthorizationCode) -> None:
        self._session.add(AuthorizationCodeRow(**_to_row(code)))
        await self._session.flush()

    @translated
    async def get(self, code_hash: str, *, for_update: bool = False) -> AuthorizationCode | None:
        row = await self._session.get(
            AuthorizationCodeRow,
            code_hash,
            populate_existing=True,
            with_for_update=for_update or None,
        )
        return None if row is None else _to_entity(row)

    @translated
    async def update(self, code: AuthorizationCode) -> None:
        row = await self._session.get(AuthorizationCodeRow, code.code_hash)
        if row is None:
            raise LookupError("unknown authorization code")
        row.used_at = code.used_at
        row.issued_session_id = code.issued_session_id
        await self._session.flush()


def _to_row(code: AuthorizationCode) -> dict[str, object]:
    return {
        "code_hash": code.code_hash,
        "client_id": code.client_id,
        "user_id": code.user_id,
        "redirect_uri": code.redirect_uri,
        "scopes": list(code.scopes),
        "nonce": code.nonce,
        "code_challenge": code.code_challenge,
        "auth_time": code.auth_time,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "used_at": code.used_at,
        "issued_session_id": code.issued_session_id,
    }


def _to_entity(row: AuthorizationCodeRow) -> AuthorizationCode:
    return AuthorizationCode(
        code_hash=row.code_hash,
        client_id=row.client_id,
        user_id=row.user_id,
        redirect_uri=row.redirect_uri,
        scopes=tuple(row.scopes),
        nonce=row.nonce,
        code_challenge=row.code_challenge,
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        issued_session_id=row.issued_session_id,
    )
