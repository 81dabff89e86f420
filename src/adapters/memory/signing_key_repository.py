from dataclasses import replace
from datetime import datetime

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import ConflictError, NotFoundError
from application.ports.signing_key_repository import SigningKeyRepository
from domain.tokens.signing_keys import SigningKey


class InMemorySigningKeyRepository(SigningKeyRepository):
    """Signing keys in a transaction's working tables. Same contract as the SQL adapter
    (a taken `kid` is a `ConflictError`, retiring an unknown one `NotFoundError`, the
    first `retired_at` is kept), except that the private material is kept in plaintext:
    nothing here is ever written to disk."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, key: SigningKey) -> None:
        if key.kid in self._tables.signing_keys:
            raise ConflictError()
        self._tables.signing_keys[key.kid] = replace(
            detached(key),
            created_at=utc(key.created_at),
            retired_at=utc_or_none(key.retired_at),
        )

    async def retire(self, kid: str, *, now: datetime) -> None:
        key = self._tables.signing_keys.get(kid)
        if key is None:
            raise NotFoundError(f"no signing key {kid!r}")
        if key.retired_at is None:
            self._tables.signing_keys[kid] = replace(key, retired_at=utc(now))

    async def list(self) -> list[SigningKey]:
        keys = sorted(
            self._tables.signing_keys.values(), key=lambda k: (k.created_at, k.kid), reverse=True
        )
        return [detached(k) for k in keys]
