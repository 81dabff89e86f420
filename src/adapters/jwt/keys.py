"""Signing keys: the algorithm travels with its key, never with the token.

RFC 8725 §2.1 / §3.1: the verifier must accept only the algorithm it was configured
with. Binding the algorithm to the key object makes that the only option, and keeps a
later RS256/EdDSA key pair a new class here rather than a change to the token service.
"""

from abc import ABC, abstractmethod

# RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
# HS256) or larger MUST be used with this algorithm."
HS256_MIN_SECRET_BYTES = 32


class SigningKey(ABC):
    """One JWS algorithm with the key material to sign and to verify with it."""

    algorithm: str
    key_id: str | None = None

    @property
    @abstractmethod
    def signing_key(self) -> str | bytes: ...

    @property
    @abstractmethod
    def verification_key(self) -> str | bytes: ...


class Hs256SigningKey(SigningKey):
    """HMAC-SHA-256 with one shared secret (signs and verifies)."""

    algorithm = "HS256"

    def __init__(self, secret: str | bytes, *, key_id: str | None = None) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if len(raw) < HS256_MIN_SECRET_BYTES:
            raise ValueError(
                f"HS256 secret must be at least {HS256_MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)"
            )
        self._secret = raw
        self.key_id = key_id

    @property
    def signing_key(self) -> bytes:
        return self._secret

    @property
    def verification_key(self) -> bytes:
        return self._secret

    def __repr__(self) -> str:
        # Never print the secret, even in a traceback.
        return f"Hs256SigningKey(key_id={self.key_id!r})"
