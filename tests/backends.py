"""Where the real Postgres and Redis live for tests, and what to do when they are absent.

Under CI=true an unreachable server fails the run loudly; elsewhere its suites skip with
a one-line reason. DATABASE_URL / REDIS_URL (or TEST_POSTGRES_URL / TEST_REDIS_URL) point
the suites at other servers.
"""

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def postgres_url() -> str:
    explicit = os.environ.get("TEST_POSTGRES_URL")
    if explicit:
        return explicit
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgresql"):
        return configured
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def redis_url() -> str:
    return (
        os.environ.get("TEST_REDIS_URL")
        or os.environ.get("REDIS_URL")
        or "redis://127.0.0.1:6379/0"
    )


def unavailable(service: str, url: str, error: BaseException) -> NoReturn:
    """Fail under CI, skip elsewhere. Never returns."""
    missing(
        f"{service} not reachable at {_redact(url)} ({type(error).__name__})",
        "set DATABASE_URL/REDIS_URL to run these tests",
    )


def missing(reason: str, remedy: str) -> NoReturn:
    """Something a suite needs is not here: fail under CI, skip with one line elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason}: CI=true requires it", pytrace=False)
    pytest.skip(f"{reason}; {remedy}")


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}@{host}"
    return url
