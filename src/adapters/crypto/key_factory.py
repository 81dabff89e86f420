"""Signing-key generation and the JWK form of public keys (pyca/cryptography).

RSA keys are 2048 bits, the minimum RFC 7518 §3.3 allows for RS256 and the size
NIST SP 800-57 rates adequate through 2030; Ed25519 (RFC 8037) has one size. HS256
secrets are 32 random bytes, the hash output size RFC 7518 §3.2 requires at least.
"""

import base64
import hashlib
import json
import secrets
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from application.ports.key_factory import KeyFactory
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey

RSA_KEY_BITS = 2048
# RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
MIN_RSA_KEY_BITS = 2048
HS256_SECRET_BYTES = 32

AsymmetricPrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class CryptographyKeyFactory(KeyFactory):
    """RSA-2048 for RS256, Ed25519 for EdDSA, 32 random bytes for HS256.

    Private material is an unencrypted PKCS#8 PEM (the repository encrypts it at rest)
    or the raw secret; the kid is the RFC 7638 thumbprint, or a random id for HS256.
    """

    def generate(self, algorithm: KeyAlgorithm, *, now: datetime) -> SigningKey:
        if algorithm is KeyAlgorithm.HS256:
            return SigningKey(
                kid=secrets.token_urlsafe(16),
                algorithm=algorithm,
                private_material=secrets.token_bytes(HS256_SECRET_BYTES),
                public_jwk=None,
                created_at=now,
            )
        private_key: AsymmetricPrivateKey
        if algorithm is KeyAlgorithm.RS256:
            private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
        elif algorithm is KeyAlgorithm.EDDSA:
            private_key = ed25519.Ed25519PrivateKey.generate()
        else:  # pragma: no cover - KeyAlgorithm has exactly three members
            raise ValueError(f"unsupported algorithm {algorithm!r}")
        return signing_key_from_private_key(private_key, created_at=now)


def signing_key_from_private_key(
    private_key: PrivateKeyTypes, *, created_at: datetime
) -> SigningKey:
    """The `SigningKey` for an RSA (RS256) or Ed25519 (EdDSA) private key; any other
    key type, or an RSA key under 2048 bits, is a `ValueError`."""
    if not isinstance(private_key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError(
            f"unsupported key type {type(private_key).__name__}: use RSA (RS256) or Ed25519 (EdDSA)"
        )
    algorithm = algorithm_for(private_key)
    jwk = public_jwk(private_key.public_key(), algorithm=algorithm)
    pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return SigningKey(
        kid=jwk["kid"],
        algorithm=algorithm,
        private_material=pem,
        public_jwk=jwk,
        created_at=created_at,
    )


def algorithm_for(private_key: AsymmetricPrivateKey) -> KeyAlgorithm:
    """RSA → RS256 (2048 bits at least), Ed25519 → EdDSA."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < MIN_RSA_KEY_BITS:
            raise ValueError(
                f"RSA key of {private_key.key_size} bits; RS256 needs at least "
                f"{MIN_RSA_KEY_BITS} (RFC 7518 §3.3)"
            )
        return KeyAlgorithm.RS256
    return KeyAlgorithm.EDDSA


def public_jwk(
    public_key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey, *, algorithm: KeyAlgorithm
) -> dict[str, str]:
    """The public JWK (RFC 7517/7518 §6.3, RFC 8037 §2) with kid, alg and use=sig."""
    members: dict[str, str]
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        members = {"kty": "RSA", "n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e)}
    else:
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    return {**members, "kid": jwk_thumbprint(members), "alg": str(algorithm), "use": "sig"}


# RFC 7638 §3.2: the required members of each key type, and only those.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint, base64url without padding."""
    names = _THUMBPRINT_MEMBERS[jwk["kty"]]
    # §3: members in lexicographic order, no whitespace, UTF-8.
    canonical = json.dumps({name: jwk[name] for name in names}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


def _b64_uint(value: int) -> str:
    # RFC 7518 §2 "Base64urlUInt": big-endian, the minimum number of octets.
    return _b64(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
