from abc import abstractmethod
from datetime import timedelta
from typing import Protocol

from domain.tokens.signing_keys import KeyAlgorithm, SigningKey


class SigningKeys(Protocol):
    """The keys a token service signs and verifies with, as this instance knows them now.

    Reads are synchronous and never wait (they run on every request).
    """

    @property
    @abstractmethod
    def signing_algorithm(self) -> KeyAlgorithm: ...

    @property
    @abstractmethod
    def token_lifetime(self) -> timedelta:
        """How long a retired key keeps verifying: no token may outlive it."""

    @abstractmethod
    def signing_key(self) -> SigningKey:
        """The key that signs now; raises `ServiceUnavailableError` when there is none."""

    @abstractmethod
    def verification_key(self, kid: str) -> SigningKey | None:
        """The key named `kid` if it still verifies now; None for unknown or expired."""
