"""API key secrets: `hx_<prefix>_<secret>`, stored as a SHA-256 digest.

The prefix (12 hex characters) is public: it finds the stored key in one indexed read
and names the key in lists. The secret is 256 random bits, so a plain fast digest is
safe to store (no password hashing per request), and the comparison is constant-time.
"""

import hashlib
import hmac
import re
import secrets

from application.ports.api_key_secrets import ApiKeySecrets, NewApiKey

_KEY = re.compile(r"^hx_([0-9a-f]{12})_([A-Za-z0-9]{43})$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class HashedApiKeySecrets(ApiKeySecrets):
    def new_key(self) -> NewApiKey:
        prefix = secrets.token_hex(6)
        # base62, 43 characters: ~256 bits, and no "_" or "-" to confuse the parser.
        secret = "".join(secrets.choice(_ALPHABET) for _ in range(43))
        return NewApiKey(key=f"hx_{prefix}_{secret}", prefix=prefix, secret_hash=_digest(secret))

    def parse(self, key: str) -> tuple[str, str] | None:
        match = _KEY.match(key.strip())
        if match is None:
            return None
        return match.group(1), _digest(match.group(2))

    def matches(self, secret_hash: str, stored_hash: str) -> bool:
        return hmac.compare_digest(secret_hash, stored_hash)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
