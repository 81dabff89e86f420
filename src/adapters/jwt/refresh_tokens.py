import hashlib
import secrets

from application.ports.token_service import RefreshTokenGenerator

# A fixed, greppable prefix makes a leaked token recognisable to secret scanners (GitHub
# secret scanning, trufflehog) and to people reading logs.
REFRESH_TOKEN_PREFIX = "hxr_"  # noqa: S105 - a public prefix, not a secret


class OpaqueRefreshTokenGenerator(RefreshTokenGenerator):
    """`hxr_` (or the given prefix) + 32 random bytes (base64url), stored only as a
    SHA-256 hex digest. Mailed one-time tokens use the same shape with `hxo_`.

    A plain, fast hash is enough here: the token carries 256 bits of randomness, so a
    stolen digest cannot be brute-forced whatever the hash speed. Slow or keyed hashes
    (argon2, a peppered HMAC) exist to protect low-entropy secrets such as passwords;
    here they would only cost time on every refresh. Determinism is required too: the
    digest is the lookup key.
    """

    def __init__(self, prefix: str = REFRESH_TOKEN_PREFIX) -> None:
        self._prefix = prefix

    def new_token(self) -> str:
        return self._prefix + secrets.token_urlsafe(32)

    def digest(self, token: str) -> str:
        # surrogatepass: a lone surrogate from JSON input must not turn into a 500.
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
