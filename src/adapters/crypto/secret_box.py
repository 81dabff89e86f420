"""Encryption at rest for secrets the service must be able to read back (signing keys,
TOTP seeds), as opposed to secrets it only verifies (passwords, tokens: digests only).

Fernet (AES-128-CBC + HMAC-SHA-256, encrypt-then-MAC, random IV) authenticates every
ciphertext, so a wrong key or a tampered value is detected, never decrypted into
garbage. MultiFernet gives key rotation (OWASP Cryptographic Storage Cheat Sheet, "Key
Lifetimes and Rotation"): the first key encrypts, every listed key decrypts, so a new
key is put first and the old one stays listed until everything was re-encrypted.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretDecryptionError(Exception):
    """A ciphertext that no configured key opens: encrypted under a key that is no
    longer (or was never) listed, or altered. A configuration problem, not bad input."""

    def __init__(self) -> None:
        super().__init__(
            "stored secret cannot be decrypted with any configured encryption key "
            "(wrong key, a key rotated out too early, or tampered data)"
        )


class FernetSecretBox:
    """Encrypts with the first of `keys`, decrypts with any of them.

    Keys are urlsafe-base64 Fernet keys (32 random bytes), e.g. from `generate_key()`.
    """

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        fernets = []
        for position, key in enumerate(keys):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # The key itself is never echoed: error messages end up in logs.
                raise ValueError(
                    f"encryption key #{position + 1} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)

    @staticmethod
    def generate_key() -> str:
        """A new random key (from the OS CSPRNG), ready for settings."""
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """The plaintext; `SecretDecryptionError` when no configured key opens it."""
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise SecretDecryptionError() from None

    def rotate(self, ciphertext: bytes) -> bytes:
        """`ciphertext` re-encrypted under the first key (for a re-encryption job)."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken:
            raise SecretDecryptionError() from None


# DEVELOPMENT ONLY. A fixed, public key so that code built without a configured box
# (tests, `make run` on a laptop) still works. Anything encrypted with it is readable by
# anyone who has this source: production must configure its own keys.
DEVELOPMENT_ONLY_KEY = "aGV4YWh1Yi1kZXZlbG9wbWVudC1vbmx5LWtleS0wMDA="
