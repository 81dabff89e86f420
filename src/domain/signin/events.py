"""Domain events of browser sign-in. Ids and client ids only, never a code or token."""

from dataclasses import dataclass
from uuid import UUID

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentGranted(DomainEvent):
    user_id: UUID
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRevoked(DomainEvent):
    user_id: UUID
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationCodeReplayed(DomainEvent):
    """A used code came back: what the first use issued is revoked (RFC 6749 §4.1.2)."""

    user_id: UUID
    client_id: str
    session_id: UUID | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalIdentityLinked(DomainEvent):
    """`how`: `created` (a first sign-in made the account) or `password` (the person
    proved the local password)."""

    user_id: UUID
    provider: str
    how: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalIdentityUnlinked(DomainEvent):
    user_id: UUID
    provider: str
