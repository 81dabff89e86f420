"""Authorization codes (RFC 6749 §4.1) bound to a client, a redirect URI and a PKCE
challenge (RFC 7636), and the consents people give to third-party clients."""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.signin.events import ConsentGranted, ConsentRevoked

# RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# An S256 challenge is the unpadded base64url of a SHA-256 digest: 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def is_s256_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.match(challenge))


def s256_matches(challenge: str, verifier: str) -> bool:
    """RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge."""
    if not _VERIFIER.match(verifier):
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(computed, challenge)


@dataclass(eq=False, kw_only=True)
class AuthorizationCode:
    """One code, stored by the digest of its value. It works once: `redeem` marks it
    used and names the session its tokens belong to, so a replay can revoke them."""

    code_hash: str
    client_id: str
    user_id: UUID
    redirect_uri: str
    scopes: tuple[str, ...]
    nonce: str | None
    code_challenge: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    issued_session_id: UUID | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthorizationCode) and other.code_hash == self.code_hash

    def __hash__(self) -> int:
        return hash(self.code_hash)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def redeem(self, *, now: datetime, session_id: UUID) -> None:
        if self.used_at is not None:
            raise ValueError("an authorization code is used once")
        self.used_at = now
        self.issued_session_id = session_id


@dataclass(eq=False, kw_only=True)
class Consent(Aggregate):
    """What a person allowed a third-party client to ask for. Asked once per scope set:
    a request within the granted scopes needs no new consent."""

    user_id: UUID
    client_id: str
    scopes: frozenset[str]
    granted_at: datetime
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Consent) and (other.user_id, other.client_id) == (
            self.user_id,
            self.client_id,
        )

    def __hash__(self) -> int:
        return hash((self.user_id, self.client_id))

    @classmethod
    def grant(
        cls, *, user_id: UUID, client_id: str, scopes: frozenset[str], now: datetime
    ) -> "Consent":
        consent = cls(user_id=user_id, client_id=client_id, scopes=scopes, granted_at=now)
        consent.record(
            ConsentGranted(
                occurred_at=now, user_id=user_id, client_id=client_id, scopes=tuple(sorted(scopes))
            )
        )
        return consent

    def covers(self, scopes: frozenset[str]) -> bool:
        return scopes <= self.scopes

    def revoke(self, *, now: datetime) -> None:
        self.record(ConsentRevoked(occurred_at=now, user_id=self.user_id, client_id=self.client_id))
