from abc import abstractmethod
from datetime import datetime
from typing import Protocol

from domain.tokens.signing_keys import SigningKey


class SigningKeyRepository(Protocol):
    """Signing keys inside one unit of work. Never commits. Private material is stored
    encrypted with a key from settings; reads return it decrypted."""

    @abstractmethod
    async def add(self, key: SigningKey) -> None: ...

    @abstractmethod
    async def retire(self, kid: str, *, now: datetime) -> None:
        """Mark a key replaced (it keeps verifying for a while; see `SigningKey`)."""

    @abstractmethod
    async def list(self) -> list[SigningKey]:
        """Every stored key, newest first."""
