from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTokenClaims:
    """What an access token proves once its signature, issuer, audience and expiry hold.

    Two kinds, told apart by `client_id`:
    - a user's token (`client_id` None): `subject` is the user id, `session_id` the login
      session it belongs to;
    - a client's token (client credentials): `client_id` and `scope` are set, `subject`
      and `session_id` are None (the JWT `sub` is the client id, RFC 9068 §2.2).
    `issuer` and `audience` are the token's `iss` and `aud`, for introspection.
    """

    subject: UUID | None
    session_id: UUID | None
    token_id: str
    issued_at: datetime
    expires_at: datetime
    issuer: str
    audience: str
    client_id: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedAccessToken:
    token: str
    claims: AccessTokenClaims


class TokenIssuer(Protocol):
    """Mints signed access tokens. How they are signed is the adapter's business.

    Raises `SigningKeyUnavailableError` (a `ServiceUnavailableError`) when no signing key
    is loaded."""

    @abstractmethod
    def issue_access_token(self, *, subject: UUID, session_id: UUID) -> IssuedAccessToken:
        """A user's token for one login session."""

    @abstractmethod
    def issue_client_token(self, client_id: str, scope: str) -> IssuedAccessToken:
        """A service client's token (client credentials grant): no user, no session."""

    @property
    @abstractmethod
    def access_token_ttl_seconds(self) -> int: ...


class TokenVerifier(Protocol):
    """Checks access tokens. Raises `InvalidTokenError` for anything not provably valid:
    bad signature, disallowed algorithm, wrong issuer or audience, expired, malformed."""

    @abstractmethod
    def verify_access_token(self, token: str) -> AccessTokenClaims: ...


class MfaTokenService(Protocol):
    """Short-lived proof that a user passed the password step and owes a second factor.

    Never interchangeable with an access token, either way: a distinct type and audience
    (RFC 8725 §3.11, §3.12). `verify_mfa_token` raises `InvalidTokenError` for anything
    not provably valid, and returns the user id. Single use is the caller's business.
    """

    @abstractmethod
    def issue_mfa_token(self, user_id: UUID, ttl_seconds: int = 300) -> str: ...

    @abstractmethod
    def verify_mfa_token(self, token: str) -> UUID: ...


class RefreshTokenGenerator(Protocol):
    """Opaque refresh tokens: high-entropy random strings, stored only as a digest."""

    @abstractmethod
    def new_token(self) -> str: ...

    @abstractmethod
    def digest(self, token: str) -> str:
        """A deterministic one-way digest used as the storage key."""
