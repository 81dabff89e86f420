"""Domain events: past-tense facts that aggregates record and the unit of work collects
at commit, writes to the outbox with their audit rows, and hands on.

Events carry ids, never secrets: no password, hash or token ever goes in one.
"""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRegistered(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class UserLoggedIn(DomainEvent):
    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginFailed(DomainEvent):
    """A password check failed or was refused; `user_id` is None when the account does
    not exist. `reason` tells the audit trail which (never the caller)."""

    user_id: UUID | None
    reason: str = "invalid_credentials"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRefreshed(DomainEvent):
    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshReuseDetected(DomainEvent):
    """A rotated refresh token came back: the session it belonged to was revoked."""

    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRevoked(DomainEvent):
    user_id: UUID
    session_id: UUID
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordChanged(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class UserUpdated(DomainEvent):
    user_id: UUID
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeactivated(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeleted(DomainEvent):
    user_id: UUID
    session_ids: tuple[str, ...] = field(default=(), compare=False)
    """The sessions that ended with the account, so every instance can be told; not
    part of what the fact is (two records of one deletion are the same event)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCreated(DomainEvent):
    """An administrator created the account (self-registration is `UserRegistered`)."""

    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class RolesAssigned(DomainEvent):
    user_id: UUID
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailVerified(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordReset(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLocked(DomainEvent):
    user_id: UUID
    until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUnlocked(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaEnabled(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaDisabled(DomainEvent):
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaChallengePassed(DomainEvent):
    user_id: UUID
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCodeUsed(DomainEvent):
    user_id: UUID
    remaining: int
