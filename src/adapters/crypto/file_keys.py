"""Signing keys supplied by the operator as PEM files (`JWT_PRIVATE_KEY_FILE`).

Either one file, or a directory of `*.pem` files: the newest by modification time
signs, the others keep verifying (and stay in the JWKS) for as long as their files are
there. Rotating by hand is therefore: add the new file (it signs from the next start),
and delete the old one once the longest token lifetime has passed since every instance
switched. The algorithm follows the key type (RSA → RS256, Ed25519 → EdDSA) and the kid
is the RFC 7638 thumbprint, so every instance derives the same kid from the same file.
"""

from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from adapters.crypto.key_factory import signing_key_from_private_key
from domain.tokens.signing_keys import SigningKey

PEM_SUFFIX = ".pem"


class KeyFileError(ValueError):
    """A key file or directory that cannot serve as signing keys. Raised at startup;
    the message names the file but never includes its content."""


def load_signing_keys(path: Path) -> list[SigningKey]:
    """The keys at `path` (a PEM file or a directory of them), newest first: the first
    one signs. Raises `KeyFileError`."""
    if path.is_dir():
        return load_key_directory(path)
    return [load_key_file(path)]


def load_key_file(path: Path) -> SigningKey:
    """One unencrypted PEM private key (PKCS#8, or PKCS#1 for RSA); `created_at` is the
    file's modification time."""
    try:
        data = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as error:
        raise KeyFileError(f"cannot read key file {path}: {error.strerror}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            f"{path} is an encrypted key; supply it unencrypted (protect it with file "
            "permissions or a secret mount instead)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        # `from None`: the parser's message could quote part of the file.
        raise KeyFileError(f"{path} does not hold a PEM private key") from None
    try:
        return signing_key_from_private_key(private_key, created_at=modified)
    except ValueError as error:
        raise KeyFileError(f"{path}: {error}") from None


def load_key_directory(directory: Path) -> list[SigningKey]:
    """Every `*.pem` in `directory` (not recursive), newest modification time first;
    ties are broken by file name, so every instance picks the same signer."""
    try:
        files = sorted(
            (p for p in directory.iterdir() if p.suffix == PEM_SUFFIX and p.is_file()),
            key=lambda p: (p.stat().st_mtime, p.name),
            reverse=True,
        )
    except OSError as error:
        raise KeyFileError(f"cannot list key directory {directory}: {error.strerror}") from None
    if not files:
        raise KeyFileError(f"no {PEM_SUFFIX} key files in {directory}")
    keys = [load_key_file(p) for p in files]
    seen: dict[str, Path] = {}
    for key, file in zip(keys, files, strict=True):
        if key.kid in seen:
            raise KeyFileError(f"{file} and {seen[key.kid]} hold the same key")
        seen[key.kid] = file
    return keys
