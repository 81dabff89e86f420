"""The development signing secret: generated once, kept in DATA_DIR, reused after restart.

Production never reaches this: settings validation refuses to start without JWT_SECRET.
"""

import os
import secrets
from pathlib import Path

from entrypoints.config.settings import Settings

_SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name


def resolve_jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / _SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    return _create_secret(path)


def _create_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # Written aside, then hard-linked into place: link fails if the file exists, so when
    # two processes start together exactly one secret wins and nobody reads a half file.
    temporary = path.with_name(f".{_SECRET_FILE}.{os.getpid()}")
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
