from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class NewApiKey:
    key: str
    """`hx_<prefix>_<secret>`: shown once, never stored."""
    prefix: str
    secret_hash: str


class ApiKeySecrets(Protocol):
    """Makes and checks API key secrets: high-entropy, stored only as a digest, checked
    in constant time and at hash-table cost (no password hashing per request)."""

    @abstractmethod
    def new_key(self) -> NewApiKey: ...

    @abstractmethod
    def parse(self, key: str) -> tuple[str, str] | None:
        """(prefix, secret_hash) of a well-formed key, else None."""

    @abstractmethod
    def matches(self, secret_hash: str, stored_hash: str) -> bool: ...
