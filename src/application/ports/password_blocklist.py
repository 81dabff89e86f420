from abc import abstractmethod
from typing import Protocol


class PasswordBlocklist(Protocol):
    """Passwords too common to accept (NIST SP 800-63B §5.1.1.2), checked offline."""

    @abstractmethod
    def contains(self, password: str) -> bool:
        """Case-insensitive."""
