"""What makes a password acceptable, checked before any hashing happens."""

from dataclasses import dataclass

from domain.common.errors import WeakPasswordError


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Length bounds for new passwords.

    OWASP ASVS 4.0 V2.1.1/V2.1.2: at least 8 characters accepted as the floor here (NIST
    SP 800-63B §5.1.1.2), at least 64 permitted, more than 128 refused. The ceiling also
    keeps an attacker from making the hasher chew on megabytes.
    """

    min_length: int = 8
    max_length: int = 128

    def __post_init__(self) -> None:
        if not 8 <= self.min_length <= self.max_length:
            raise ValueError("password policy needs 8 <= min_length <= max_length")

    def check(self, password: str, *, field: str = "password") -> None:
        if len(password) < self.min_length:
            raise WeakPasswordError(
                f"password must be at least {self.min_length} characters", field=field
            )
        if len(password) > self.max_length:
            raise WeakPasswordError(
                f"password must be at most {self.max_length} characters", field=field
            )
