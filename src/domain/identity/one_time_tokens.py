"""Single-use tokens sent by mail: email verification and password reset."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name


@dataclass(frozen=True, slots=True, kw_only=True)
class OneTimeToken:
    """Stored as a digest only. `binding` is a digest of the account state the token was
    issued for (the email being verified, the password hash being replaced): when that
    state changes by any path, the token stops matching and dies with it."""

    token_hash: str
    purpose: TokenPurpose
    user_id: UUID
    binding: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
