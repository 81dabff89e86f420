"""What every step of the browser flow shares: the authorization request as validated,
who is signed in, the scopes and claims this provider knows, and code digests."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.identity.user import User
from domain.tokens.service_clients import ServiceClient

OPENID = "openid"
SUPPORTED_SCOPES = ("openid", "email", "profile")
"""OpenID Connect Core §5.4 scopes this provider answers; anything else is
`invalid_scope`. A person's access token carries the person's own rights, as from
`/login`."""

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name


def code_digest(code: str) -> str:
    """Codes carry 256 random bits: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """The query of `GET /oauth2/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core
    §3.1.2.1), as received."""

    client_id: str | None
    redirect_uri: str | None
    response_type: str | None
    scope: str | None
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidRequest:
    """A request whose client and redirect URI are known good, and whose every other
    parameter holds: a code may be issued for it once someone is signed in."""

    client: ServiceClient
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str

    @property
    def needs_consent(self) -> bool:
        return not self.client.first_party


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """Nobody to send the error to: the client is unknown or the redirect URI is not
    registered (RFC 6749 §4.1.2.1: the server MUST NOT redirect). Shown as a page."""

    error: str
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRedirect:
    """An error sent back to a registered redirect URI (RFC 6749 §4.1.2.1)."""

    redirect_uri: str
    error: str
    description: str
    state: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    """A person signed in to the hosted pages: the browser's cookie names a live login
    session."""

    user: User
    session_id: UUID
    auth_time: datetime


def userinfo_claims(user: User, scopes: tuple[str, ...] | frozenset[str]) -> dict[str, object]:
    """OIDC Core §5.4: `email` gives `email`, `email_verified`; `profile` gives
    `preferred_username`, `name`, `updated_at`."""
    claims: dict[str, object] = {"sub": str(user.id)}
    if "email" in scopes:
        claims["email"] = str(user.email)
        claims["email_verified"] = user.is_verified
    if "profile" in scopes:
        claims["preferred_username"] = str(user.username)
        if user.full_name:
            claims["name"] = str(user.full_name)
        claims["updated_at"] = int(user.updated_at.timestamp())
    return claims
