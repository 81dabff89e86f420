from abc import abstractmethod
from typing import Protocol


class PasswordHasher(Protocol):
    """One-way password hashing.

    Implementations must not block the event loop: CPU-heavy work runs elsewhere, with
    bounded concurrency; when that bound is saturated they raise `HasherBusyError`
    instead of queueing without limit.
    """

    @abstractmethod
    async def hash(self, password: str) -> str:
        """Return a self-describing hash (algorithm, parameters and salt included)."""

    @abstractmethod
    async def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False for a mismatch or an unreadable hash."""

    @abstractmethod
    async def verify_dummy(self, password: str) -> None:
        """Spend the cost of one verification on nothing, so an unknown account answers
        in the same time as a wrong password (no user enumeration by timing)."""

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
