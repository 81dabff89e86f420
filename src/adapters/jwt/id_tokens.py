"""OpenID Connect id_tokens (Core §2, §3.1.3.7) signed with PyJWT by an asymmetric key
of a `SigningKeys` ring, so any relying party verifies them from the JWKS."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import jwt

from adapters.jwt.keys import PreparedKeys
from application.errors import InvalidTokenError
from application.ports.clock import Clock
from application.ports.id_tokens import IdTokenHint, IdTokenService
from application.ports.signing_keys import SigningKeys


class PyJwtIdTokenService(IdTokenService):
    """`typ: JWT` (Core does not define another), `aud` the client id, `azp` too (one
    audience), `iss` the public base URL. The ring must sign asymmetrically: an HS256
    id_token could be verified only with the client's secret, and public clients have
    none."""

    def __init__(self, *, keys: SigningKeys, issuer: str, ttl_seconds: int, clock: Clock) -> None:
        if keys.signing_algorithm.is_symmetric:
            raise ValueError("id_tokens need an asymmetric key (RS256 or EdDSA)")
        if keys.token_lifetime.total_seconds() < ttl_seconds:
            raise ValueError("the key ring must keep retired keys as long as an id_token lives")
        self._keys = keys
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._clock = clock
        self._prepared = PreparedKeys()

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def algorithms(self) -> list[str]:
        return [str(self._keys.signing_algorithm)]

    def issue_id_token(
        self,
        *,
        subject: UUID,
        audience: str,
        auth_time: datetime,
        nonce: str | None,
        session_id: UUID,
        claims: Mapping[str, object],
    ) -> str:
        now = int(self._clock.now().timestamp())
        payload: dict[str, Any] = {
            **claims,
            "iss": self._issuer,
            "sub": str(subject),
            "aud": audience,
            "azp": audience,
            "exp": now + self._ttl,
            "iat": now,
            "auth_time": int(auth_time.timestamp()),
            "sid": str(session_id),
        }
        if nonce is not None:
            payload["nonce"] = nonce
        key = self._keys.signing_key()
        return jwt.encode(
            payload,
            self._prepared.get(key).signing,
            algorithm=str(key.algorithm),
            headers={"kid": key.kid, "typ": "JWT"},
        )

    def read_hint(self, token: str) -> IdTokenHint:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self._keys.verification_key(kid) if isinstance(kid, str) else None
            # The key decides the algorithm (RFC 8725 §3.1); a symmetric key never
            # verifies an id_token.
            if key is None or key.algorithm.is_symmetric or header.get("alg") != str(key.algorithm):
                raise InvalidTokenError()
            payload = jwt.decode(
                token,
                self._prepared.get(key).verifying,
                algorithms=[str(key.algorithm)],
                issuer=self._issuer,
                options={
                    "require": ["iss", "sub", "aud"],
                    "verify_aud": False,  # any of our clients' tokens; the caller checks
                    "verify_exp": False,  # a hint may be old (RP-Initiated Logout §2)
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
            audience = payload["aud"]
            if isinstance(audience, list):
                audience = audience[0] if len(audience) == 1 else None
            if not isinstance(audience, str):
                raise InvalidTokenError()
            sid = payload.get("sid")
            return IdTokenHint(
                subject=UUID(payload["sub"]),
                audience=audience,
                session_id=UUID(sid) if isinstance(sid, str) else None,
            )
        except InvalidTokenError:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise InvalidTokenError() from error
