import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt

from adapters.jwt.keys import Hs256SigningKey, SigningKey
from application.errors import InvalidTokenError
from application.ports.clock import Clock
from application.ports.id_generator import IdGenerator
from application.ports.token_service import (
    AccessTokenClaims,
    IssuedAccessToken,
    TokenIssuer,
    TokenVerifier,
)

_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid"]


class PyJwtTokenService(TokenIssuer, TokenVerifier):
    """Signed JWT access tokens (PyJWT), HS256 by default.

    Verification follows RFC 8725: the algorithm comes from the configured key, never
    from the token header (so `alg: none` and algorithm confusion are refused); issuer
    and audience must match exactly; every claim is required. Time claims are checked
    against the `Clock` port with `leeway_seconds` of skew allowed, not against PyJWT's
    wall clock, so expiry is exact in tests. Any failure is `InvalidTokenError`.
    """

    def __init__(
        self,
        *,
        secret: str | bytes | SigningKey,
        issuer: str,
        audience: str,
        access_token_ttl_seconds: int,
        clock: Clock,
        id_generator: IdGenerator | None = None,
        leeway_seconds: int = 10,
    ) -> None:
        if access_token_ttl_seconds < 1:
            raise ValueError("access_token_ttl_seconds must be at least 1")
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        self._key = secret if isinstance(secret, SigningKey) else Hs256SigningKey(secret)
        self._issuer = issuer
        self._audience = audience
        self._ttl = access_token_ttl_seconds
        self._clock = clock
        self._ids = id_generator
        self._leeway = leeway_seconds

    @property
    def access_token_ttl_seconds(self) -> int:
        return self._ttl

    def issue_access_token(self, *, subject: UUID, session_id: UUID) -> IssuedAccessToken:
        issued_at = int(self._clock.now().timestamp())
        expires_at = issued_at + self._ttl
        token_id = str(self._ids.new_id()) if self._ids else secrets.token_urlsafe(16)
        payload = {
            "iss": self._issuer,
            "sub": str(subject),
            "aud": self._audience,
            "exp": expires_at,
            "iat": issued_at,
            "nbf": issued_at,
            "jti": token_id,
            "sid": str(session_id),
        }
        headers: dict[str, Any] = {"typ": "JWT"}
        if self._key.key_id is not None:
            headers["kid"] = self._key.key_id
        token = jwt.encode(
            payload, self._key.signing_key, algorithm=self._key.algorithm, headers=headers
        )
        claims = AccessTokenClaims(
            subject=subject,
            session_id=session_id,
            token_id=token_id,
            issued_at=_from_timestamp(issued_at),
            expires_at=_from_timestamp(expires_at),
        )
        return IssuedAccessToken(token=token, claims=claims)

    def verify_access_token(self, token: str) -> AccessTokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._key.verification_key,
                algorithms=[self._key.algorithm],  # pinned: never read from the token
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "strict_aud": True,
                    # PyJWT compares exp/nbf/iat with the real wall clock; those three are
                    # checked below against the Clock port instead.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            return self._claims_from(payload)
        except InvalidTokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as error:
            # One error for every failure: the reason is not the caller's business and
            # telling it apart helps an attacker probe.
            raise InvalidTokenError() from error

    def _claims_from(self, payload: dict[str, Any]) -> AccessTokenClaims:
        now = self._clock.now().timestamp()
        exp, nbf, iat = (_numeric_date(payload, name) for name in ("exp", "nbf", "iat"))
        # RFC 7519 §4.1.4: reject "on or after" exp; §4.1.5: reject before nbf.
        if exp <= now - self._leeway:
            raise InvalidTokenError("token expired")
        if nbf > now + self._leeway or iat > now + self._leeway:
            raise InvalidTokenError("token not yet valid")
        token_id = payload["jti"]
        if not isinstance(token_id, str) or not token_id:
            raise InvalidTokenError()
        return AccessTokenClaims(
            subject=_uuid_claim(payload, "sub"),
            session_id=_uuid_claim(payload, "sid"),
            token_id=token_id,
            issued_at=_from_timestamp(iat),
            expires_at=_from_timestamp(exp),
        )


def _numeric_date(payload: dict[str, Any], name: str) -> int:
    value = payload[name]
    # We only ever issue integers; bool is an int subclass and must not pass as one.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidTokenError()
    return value


def _uuid_claim(payload: dict[str, Any], name: str) -> UUID:
    value = payload[name]
    if not isinstance(value, str):
        raise InvalidTokenError()
    parsed = UUID(value)  # ValueError on anything else, mapped by the caller
    if str(parsed) != value:
        # Only the canonical form we issue; UUID() also takes braces, urns and bare hex.
        raise InvalidTokenError()
    return parsed


def _from_timestamp(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
