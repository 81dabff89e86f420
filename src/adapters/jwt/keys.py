"""Key material for PyJWT: the configured HS256 secret as a `SigningKey`, and each
`SigningKey` turned into the objects PyJWT signs and verifies with.

RFC 8725 §2.1 / §3.1: the verifier must accept only the algorithm the key was made
for. The algorithm travels with the key (`SigningKey.algorithm`), never with the token.
"""

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from domain.tokens.signing_keys import KeyAlgorithm, SigningKey

# RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
# HS256) or larger MUST be used with this algorithm."
HS256_MIN_SECRET_BYTES = 32

# A configured secret has no creation time; the epoch sorts it before any stored key.
_CONFIGURED = datetime(1970, 1, 1, tzinfo=UTC)
_KID_LABEL = b"hexahub jwt kid v1"


def hs256_key(secret: str | bytes, *, created_at: datetime = _CONFIGURED) -> SigningKey:
    """The HS256 `SigningKey` for a configured shared secret (`JWT_SECRET`).

    The kid is derived from the secret (HMAC-SHA-256 of a fixed label, keyed with the
    secret): every instance configured with the same secret names it alike, and the
    kid reveals nothing about the secret. Secrets under 32 bytes are a `ValueError`.
    """
    raw = secret.encode() if isinstance(secret, str) else secret
    _check_hs256_secret(raw)
    digest = hmac.new(raw, _KID_LABEL, hashlib.sha256).digest()[:16]
    return SigningKey(
        kid="hs-" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
        algorithm=KeyAlgorithm.HS256,
        private_material=raw,
        public_jwk=None,
        created_at=created_at,
    )


@dataclass(frozen=True, slots=True)
class PreparedKey:
    """What PyJWT takes: the secret bytes for HS256, key objects otherwise."""

    signing: Any
    verifying: Any

    def __repr__(self) -> str:
        return "PreparedKey(...)"  # never print key material, even in a traceback


class PreparedKeys:
    """Parses each key's PEM once (RSA parsing costs about a millisecond) and keeps the
    result. Keyed by the whole identity (kid, algorithm, material), so a stored key
    replaced under the same kid is never served stale. Bounded: keys rotate rarely,
    and the cache is simply emptied if it ever grows past `max_size`."""

    def __init__(self, max_size: int = 32) -> None:
        self._max_size = max_size
        self._prepared: dict[tuple[str, str, bytes], PreparedKey] = {}
        self._lock = threading.Lock()

    def get(self, key: SigningKey) -> PreparedKey:
        """Raises `ValueError` if the material does not fit the algorithm."""
        cache_key = (key.kid, str(key.algorithm), key.private_material)
        prepared = self._prepared.get(cache_key)
        if prepared is None:
            prepared = prepare(key)
            with self._lock:
                if len(self._prepared) >= self._max_size:
                    self._prepared.clear()
                self._prepared[cache_key] = prepared
        return prepared


def prepare(key: SigningKey) -> PreparedKey:
    """The PyJWT key objects for `key`. Raises `ValueError` if the material is not a
    key of the kind its algorithm needs (an RSA PEM labelled EdDSA, a short secret)."""
    if key.algorithm is KeyAlgorithm.HS256:
        _check_hs256_secret(key.private_material)
        return PreparedKey(signing=key.private_material, verifying=key.private_material)
    try:
        private_key = serialization.load_pem_private_key(key.private_material, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # `from None`: a parser message could quote key material into a log.
        raise ValueError(f"key {key.kid!r}: private material is not a PEM private key") from None
    expected = (
        rsa.RSAPrivateKey if key.algorithm is KeyAlgorithm.RS256 else ed25519.Ed25519PrivateKey
    )
    if not isinstance(private_key, expected):
        raise ValueError(f"key {key.kid!r}: material is not a {key.algorithm} key")
    return PreparedKey(signing=private_key, verifying=private_key.public_key())


def _check_hs256_secret(raw: bytes) -> None:
    if len(raw) < HS256_MIN_SECRET_BYTES:
        raise ValueError(
            f"HS256 secret must be at least {HS256_MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)"
        )
