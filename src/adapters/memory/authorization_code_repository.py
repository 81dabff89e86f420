from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.ports.authorization_code_repository import AuthorizationCodeRepository
from domain.signin.authorization import AuthorizationCode


class InMemoryAuthorizationCodeRepository(AuthorizationCodeRepository):
    """Codes in a transaction's working tables; same contract as the SQL adapter. The
    store runs one transaction at a time, so `for_update` needs no lock of its own."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, code: AuthorizationCode) -> None:
        if code.code_hash in self._tables.authorization_codes:
            raise ValueError("duplicate authorization code")
        self._tables.authorization_codes[code.code_hash] = _stored(code)

    async def get(self, code_hash: str, *, for_update: bool = False) -> AuthorizationCode | None:
        code = self._tables.authorization_codes.get(code_hash)
        return None if code is None else detached(code)

    async def update(self, code: AuthorizationCode) -> None:
        if code.code_hash not in self._tables.authorization_codes:
            raise LookupError("unknown authorization code")
        self._tables.authorization_codes[code.code_hash] = _stored(code)


def _stored(code: AuthorizationCode) -> AuthorizationCode:
    stored = detached(code)
    stored.auth_time = utc(code.auth_time)
    stored.created_at = utc(code.created_at)
    stored.expires_at = utc(code.expires_at)
    stored.used_at = utc_or_none(code.used_at)
    return stored
