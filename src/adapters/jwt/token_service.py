import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import jwt

from adapters.jwt.keys import PreparedKeys
from application.errors import InvalidTokenError
from application.ports.clock import Clock
from application.ports.id_generator import IdGenerator
from application.ports.signing_keys import SigningKeys
from application.ports.token_service import (
    AccessTokenClaims,
    IssuedAccessToken,
    MfaTokenService,
    TokenIssuer,
    TokenVerifier,
)
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey

# RFC 9068 §2.1: access tokens are typed "at+jwt"; §4: resource servers accept
# "at+jwt" or "application/at+jwt" and nothing else. Media types compare
# case-insensitively (RFC 7515 §4.1.9).
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JOSE media type, not a secret
MFA_TOKEN_TYPE = "mfa+jwt"  # noqa: S105 - a JOSE media type, not a secret
_ACCESS_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_MFA_TYPES = frozenset({"mfa+jwt", "application/mfa+jwt"})

_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]
# Access tokens remembered once verified (see `verify_access_token`).
_VERIFIED_KEPT = 1024
DEFAULT_MFA_TOKEN_TTL_SECONDS = 300


class PyJwtTokenService(TokenIssuer, TokenVerifier, MfaTokenService):
    """Signed JWTs (PyJWT) with keys from a `SigningKeys` (the key ring): HS256, RS256 or
    EdDSA.

    Issuing: the ring's signing key signs; the header carries its `kid` and the token
    type (`at+jwt` per RFC 9068, `mfa+jwt` for MFA challenges).

    Verifying follows RFC 8725:
    - §3.1 the accepted algorithms are `algorithms`, pinned by configuration; the
      token's `alg` must be in that set *and* equal the algorithm of the key its `kid`
      names. The key decides, never the header: `alg: none` and an HS256 token MACed
      with an RSA public key (algorithm confusion) are refused before any crypto runs;
    - the `kid` must name a key the ring still verifies with; a missing, unknown or
      expired kid is refused (no trying every key);
    - §3.11/§3.12 explicit typing and a distinct audience keep access and MFA tokens
      apart; `crit` headers are refused (we understand no extension, RFC 7515 §4.1.11);
    - issuer and audience must match exactly and every claim is required;
    - exp/nbf/iat are checked against the `Clock` port with `leeway_seconds` of skew,
      not PyJWT's wall clock, so expiry is exact in tests.
    Any failure is `InvalidTokenError`, with no reason given to the caller.
    """

    def __init__(
        self,
        *,
        keys: SigningKeys,
        algorithms: Collection[KeyAlgorithm],
        issuer: str,
        audience: str,
        access_token_ttl_seconds: int,
        clock: Clock,
        id_generator: IdGenerator | None = None,
        leeway_seconds: int = 10,
        mfa_audience: str | None = None,
    ) -> None:
        if access_token_ttl_seconds < 1:
            raise ValueError("access_token_ttl_seconds must be at least 1")
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        pinned = frozenset(KeyAlgorithm(a) for a in algorithms)
        if not pinned:
            raise ValueError("at least one algorithm must be accepted")
        if keys.signing_algorithm not in pinned:
            raise ValueError(
                f"the signing algorithm {keys.signing_algorithm} is not among the accepted "
                f"algorithms {sorted(pinned)}: every token issued would be refused"
            )
        mfa_audience = mfa_audience or f"{audience}#mfa"
        if mfa_audience == audience:
            raise ValueError("MFA tokens need an audience of their own")
        self._keys = keys
        self._algorithms = pinned
        self._issuer = issuer
        self._audience = audience
        self._mfa_audience = mfa_audience
        self._ttl = access_token_ttl_seconds
        self._clock = clock
        self._ids = id_generator
        self._leeway = leeway_seconds
        self._prepared = PreparedKeys()
        # token -> (kid, key, payload, claims) of access tokens whose signature passed.
        self._verified: dict[str, tuple[str, SigningKey, dict[str, Any], AccessTokenClaims]] = {}
        self._check_key_lifetime(access_token_ttl_seconds)

    @property
    def access_token_ttl_seconds(self) -> int:
        return self._ttl

    # --- issuing --------------------------------------------------------------------------

    def issue_access_token(self, *, subject: UUID, session_id: UUID) -> IssuedAccessToken:
        return self._issue_access(
            sub=str(subject), extra={"sid": str(session_id)}, subject=subject, session_id=session_id
        )

    def issue_client_token(self, client_id: str, scope: str) -> IssuedAccessToken:
        if not client_id:
            raise ValueError("client_id must not be empty")
        # RFC 9068 §2.2: `sub` is the client itself when no resource owner is involved.
        return self._issue_access(
            sub=client_id,
            extra={"client_id": client_id, "scope": scope},
            client_id=client_id,
            scope=scope,
        )

    def issue_mfa_token(
        self, user_id: UUID, ttl_seconds: int = DEFAULT_MFA_TOKEN_TTL_SECONDS
    ) -> str:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1")
        self._check_key_lifetime(ttl_seconds)
        payload, _, _, _ = self._base_payload(str(user_id), self._mfa_audience, ttl_seconds)
        return self._sign(payload, MFA_TOKEN_TYPE)

    def _issue_access(
        self,
        *,
        sub: str,
        extra: dict[str, str],
        subject: UUID | None = None,
        session_id: UUID | None = None,
        client_id: str | None = None,
        scope: str | None = None,
    ) -> IssuedAccessToken:
        payload, token_id, issued_at, expires_at = self._base_payload(
            sub, self._audience, self._ttl
        )
        token = self._sign({**payload, **extra}, ACCESS_TOKEN_TYPE)
        claims = AccessTokenClaims(
            subject=subject,
            session_id=session_id,
            client_id=client_id,
            scope=scope,
            token_id=token_id,
            issued_at=_from_timestamp(issued_at),
            expires_at=_from_timestamp(expires_at),
            issuer=self._issuer,
            audience=self._audience,
        )
        return IssuedAccessToken(token=token, claims=claims)

    def _base_payload(
        self, sub: str, audience: str, ttl_seconds: int
    ) -> tuple[dict[str, Any], str, int, int]:
        issued_at = int(self._clock.now().timestamp())
        expires_at = issued_at + ttl_seconds
        token_id = str(self._ids.new_id()) if self._ids else secrets.token_urlsafe(16)
        payload = {
            "iss": self._issuer,
            "sub": sub,
            "aud": audience,
            "exp": expires_at,
            "iat": issued_at,
            "nbf": issued_at,
            "jti": token_id,
        }
        return payload, token_id, issued_at, expires_at

    def _sign(self, payload: dict[str, Any], typ: str) -> str:
        key = self._keys.signing_key()  # SigningKeyUnavailableError if none is loaded
        prepared = self._prepared.get(key)
        return jwt.encode(
            payload,
            prepared.signing,
            algorithm=str(key.algorithm),
            headers={"kid": key.kid, "typ": typ},
        )

    def _check_key_lifetime(self, ttl_seconds: int) -> None:
        # A retired key must keep verifying for as long as a token it signed is accepted.
        if self._keys.token_lifetime.total_seconds() < ttl_seconds + self._leeway:
            raise ValueError(
                f"the key ring keeps retired keys for {self._keys.token_lifetime}, shorter "
                f"than a token's lifetime plus leeway ({ttl_seconds + self._leeway} s)"
            )

    # --- verifying ------------------------------------------------------------------------

    def verify_access_token(self, token: str) -> AccessTokenClaims:
        # A token verified before is the same bytes under the same signature: only what
        # can change since is checked again, its times and that its key still verifies
        # (a rotated-out, expired or reloaded key misses and verifies afresh).
        known = self._verified.get(token)
        if known is not None:
            kid, key, times, claims = known
            if self._keys.verification_key(kid) is key:
                self._check_times(times)
                return claims
            self._verified.pop(token, None)
        payload, kid, key = self._decode_with_key(
            token, types=_ACCESS_TYPES, audience=self._audience
        )
        try:
            claims = self._access_claims_from(payload)
        except InvalidTokenError:
            raise
        except (KeyError, ValueError, TypeError, OverflowError) as error:
            raise InvalidTokenError() from error
        if len(self._verified) >= _VERIFIED_KEPT:
            self._verified.clear()  # bounded; a busy instance re-verifies, nothing more
        # Only what is checked again is kept: a few hundred bytes an entry.
        times = {name: payload[name] for name in ("exp", "nbf", "iat")}
        self._verified[token] = (kid, key, times, claims)
        return claims

    def verify_mfa_token(self, token: str) -> UUID:
        payload = self._decode(token, types=_MFA_TYPES, audience=self._mfa_audience)
        try:
            return _uuid_claim(payload, "sub")
        except ValueError as error:
            raise InvalidTokenError() from error

    def _decode(self, token: str, *, types: frozenset[str], audience: str) -> dict[str, Any]:
        return self._decode_with_key(token, types=types, audience=audience)[0]

    def _decode_with_key(
        self, token: str, *, types: frozenset[str], audience: str
    ) -> tuple[dict[str, Any], str, SigningKey]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            typ = header.get("typ")
            if not isinstance(kid, str) or not kid:
                raise InvalidTokenError()
            if not isinstance(typ, str) or typ.lower() not in types:
                raise InvalidTokenError()
            if "crit" in header:
                raise InvalidTokenError()
            key = self._keys.verification_key(kid)
            if key is None or key.algorithm not in self._algorithms:
                raise InvalidTokenError()
            # The header's alg must be the key's own: this is what refuses an HS256 token
            # "signed" with an RS256 public key, even when both algorithms are accepted.
            if header.get("alg") != str(key.algorithm):
                raise InvalidTokenError()
            payload = jwt.decode(
                token,
                self._prepared.get(key).verifying,
                algorithms=[str(key.algorithm)],  # pinned by the key, never the token
                audience=audience,
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
            self._check_times(payload)
            return payload, kid, key
        except InvalidTokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as error:
            # One error for every failure: the reason is not the caller's business and
            # telling it apart helps an attacker probe.
            raise InvalidTokenError() from error

    def _check_times(self, payload: dict[str, Any]) -> None:
        now = self._clock.now().timestamp()
        exp, nbf, iat = (_numeric_date(payload, name) for name in ("exp", "nbf", "iat"))
        # RFC 7519 §4.1.4: reject "on or after" exp; §4.1.5: reject before nbf.
        if exp <= now - self._leeway:
            raise InvalidTokenError("token expired")
        if nbf > now + self._leeway or iat > now + self._leeway:
            raise InvalidTokenError("token not yet valid")

    def _access_claims_from(self, payload: dict[str, Any]) -> AccessTokenClaims:
        token_id = payload["jti"]
        if not isinstance(token_id, str) or not token_id:
            raise InvalidTokenError()
        subject: UUID | None = None
        session_id: UUID | None = None
        client_id: str | None = None
        scope: str | None = None
        if "client_id" in payload:
            # A client's token: sub is the client (RFC 9068 §2.2), and no session.
            client_id, scope = payload["client_id"], payload.get("scope")
            if (
                not isinstance(client_id, str)
                or not client_id
                or payload["sub"] != client_id
                or not isinstance(scope, str)
                or "sid" in payload
            ):
                raise InvalidTokenError()
        else:
            if "sid" not in payload:
                raise InvalidTokenError()
            subject = _uuid_claim(payload, "sub")
            session_id = _uuid_claim(payload, "sid")
        return AccessTokenClaims(
            subject=subject,
            session_id=session_id,
            client_id=client_id,
            scope=scope,
            token_id=token_id,
            issued_at=_from_timestamp(payload["iat"]),
            expires_at=_from_timestamp(payload["exp"]),
            issuer=payload["iss"],
            audience=payload["aud"],
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
