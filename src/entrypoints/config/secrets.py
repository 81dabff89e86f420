"""Development secrets (the signing secret, the key-encryption key): generated once,
kept in DATA_DIR, reused after restart.

Production never reaches this: settings validation refuses to start without JWT_SECRET.
"""

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

from entrypoints.config.settings import Settings

_SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name
_ENCRYPTION_KEY_FILE = "key_encryption_key"


def resolve_jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    return _kept(settings.data_dir / _SECRET_FILE, lambda: secrets.token_urlsafe(48))


def resolve_encryption_keys(settings: Settings) -> list[str]:
    """KEY_ENCRYPTION_KEYS, or in development one Fernet key generated into DATA_DIR
    (production refuses to start without the setting)."""
    if settings.key_encryption_keys:
        return [key.get_secret_value() for key in settings.key_encryption_keys]
    return [_kept(settings.data_dir / _ENCRYPTION_KEY_FILE, lambda: Fernet.generate_key().decode())]


def _kept(path: Path, generate: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    return _create_secret(path, generate)


def _create_secret(path: Path, generate: Callable[[], str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate()
    # Written aside, then hard-linked into place: link fails if the file exists, so when
    # two processes start together exactly one secret wins and nobody reads a half file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    try:
        os.link(temporary, path)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
    finally:
        temporary.unlink(missing_ok=True)
    return value
