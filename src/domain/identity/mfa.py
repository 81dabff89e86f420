"""A TOTP second factor (RFC 6238) and its single-use recovery codes."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.identity.events import MfaDisabled, MfaEnabled, RecoveryCodeUsed


@dataclass(eq=False, kw_only=True)
class TotpFactor(Aggregate):
    """`secret` is the base32 TOTP seed (encrypted at rest by adapters). Until
    `confirmed_at` is set the factor is pending and protects nothing. `last_used_step`
    is the time step of the last accepted code: a code is accepted once (no replay
    within its window). `recovery_code_hashes` are the digests of the unused codes."""

    user_id: UUID
    secret: str = field(repr=False)
    created_at: datetime
    confirmed_at: datetime | None = None
    last_used_step: int | None = None
    recovery_code_hashes: frozenset[str] = field(default_factory=frozenset, repr=False)
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TotpFactor) and other.user_id == self.user_id

    def __hash__(self) -> int:
        return hash(self.user_id)

    @property
    def is_enabled(self) -> bool:
        return self.confirmed_at is not None

    def accept_step(self, step: int) -> bool:
        """Accept a code from time step `step` once; False for a replay or an older step."""
        if self.last_used_step is not None and step <= self.last_used_step:
            return False
        self.last_used_step = step
        return True

    def confirm(self, *, step: int, recovery_code_hashes: frozenset[str], now: datetime) -> None:
        self.confirmed_at = now
        self.last_used_step = step
        self.recovery_code_hashes = recovery_code_hashes
        self.record(MfaEnabled(occurred_at=now, user_id=self.user_id))

    def use_recovery_code(self, code_hash: str, *, now: datetime) -> bool:
        if code_hash not in self.recovery_code_hashes:
            return False
        self.recovery_code_hashes = self.recovery_code_hashes - {code_hash}
        self.record(
            RecoveryCodeUsed(
                occurred_at=now, user_id=self.user_id, remaining=len(self.recovery_code_hashes)
            )
        )
        return True

    def disable(self, *, now: datetime) -> None:
        self.record(MfaDisabled(occurred_at=now, user_id=self.user_id))
