from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.identity.one_time_tokens import OneTimeToken


class OneTimeTokenRepository(Protocol):
    """Verification and reset tokens inside one unit of work, by digest. Never commits."""

    @abstractmethod
    async def add(self, token: OneTimeToken) -> None: ...

    @abstractmethod
    async def get(self, token_hash: str) -> OneTimeToken | None: ...

    @abstractmethod
    async def mark_used(self, token_hash: str, *, now: datetime) -> bool:
        """Atomically mark an unused token used. True for exactly one caller however
        many race on the same token: this is what makes the token single-use."""
