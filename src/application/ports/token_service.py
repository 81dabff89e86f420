from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTokenClaims:
    """What an access token proves once its signature, issuer, audience and expiry hold."""

    subject: UUID
    session_id: UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedAccessToken:
    token: str
    claims: AccessTokenClaims


class TokenIssuer(Protocol):
    """Mints signed access tokens. How they are signed is the adapter's business."""

    @abstractmethod
    def issue_access_token(self, *, subject: UUID, session_id: UUID) -> IssuedAccessToken: ...

    @property
    @abstractmethod
    def access_token_ttl_seconds(self) -> int: ...


class TokenVerifier(Protocol):
    """Checks access tokens. Raises `InvalidTokenError` for anything not provably valid:
    bad signature, disallowed algorithm, wrong issuer or audience, expired, malformed."""

    @abstractmethod
    def verify_access_token(self, token: str) -> AccessTokenClaims: ...


class RefreshTokenGenerator(Protocol):
    """Opaque refresh tokens: high-entropy random strings, stored only as a digest."""

    @abstractmethod
    def new_token(self) -> str: ...

    @abstractmethod
    def digest(self, token: str) -> str:
        """A deterministic one-way digest used as the storage key."""
