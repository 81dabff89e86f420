"""Fixtures for migration tests: databases that start empty, unlike the shared ones."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import backends


@pytest.fixture
async def postgres_empty_url() -> AsyncIterator[str]:
    """A throwaway PostgreSQL database with no schema at all, dropped afterwards."""
    import asyncpg

    base = backends.postgres_url()
    try:
        admin = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        backends.unavailable("PostgreSQL", base, error)
    name = f"hexahub_migrations_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sqlite_empty_url(tmp_path: Path) -> str:
    # A directory that does not exist yet: migrating must create it.
    return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hexahub.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_empty_url"))
