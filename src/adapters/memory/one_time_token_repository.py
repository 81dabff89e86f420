from dataclasses import replace
from datetime import datetime

from adapters.memory.store import Tables, utc, utc_or_none
from application.ports.one_time_token_repository import OneTimeTokenRepository
from domain.identity.one_time_tokens import OneTimeToken


class InMemoryOneTimeTokenRepository(OneTimeTokenRepository):
    """Token digests in a transaction's working tables. `mark_used` is atomic because
    the store lets one transaction run at a time: the first caller finds the token
    unused and marks it; every later one finds it used."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, token: OneTimeToken) -> None:
        if token.token_hash in self._tables.one_time_tokens:
            raise ValueError("duplicate one-time token digest")
        if token.user_id not in self._tables.users:
            raise ValueError(f"one-time token for unknown user {token.user_id}")  # a foreign key
        self._tables.one_time_tokens[token.token_hash] = replace(
            token,
            created_at=utc(token.created_at),
            expires_at=utc(token.expires_at),
            used_at=utc_or_none(token.used_at),
        )

    async def get(self, token_hash: str) -> OneTimeToken | None:
        return self._tables.one_time_tokens.get(token_hash)  # frozen: safe to share

    async def mark_used(self, token_hash: str, *, now: datetime) -> bool:
        token = self._tables.one_time_tokens.get(token_hash)
        if token is None or token.used_at is not None:
            return False
        self._tables.one_time_tokens[token_hash] = replace(token, used_at=utc(now))
        return True
