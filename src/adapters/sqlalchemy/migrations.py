"""Run the Alembic migrations in `migrations/` programmatically.

Synchronous on purpose (a CLI command, a test fixture, a deploy step). The Alembic
environment runs its own event loop, so these functions must not run on a thread whose
loop is running; when they are called from one they move to a worker thread.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.engine import create_migration_engine

# The repository root holds migrations/ (the package is installed editable from src/).
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"

T = TypeVar("T")


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` without reading alembic.ini (and without touching
    the caller's logging). The URL travels as an attribute: no %-escaping of passwords."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


def upgrade_to_head(url: str) -> None:
    _off_loop(lambda: command.upgrade(alembic_config(url), "head"))


def downgrade_to_base(url: str) -> None:
    _off_loop(lambda: command.downgrade(alembic_config(url), "base"))


def upgrade_to(url: str, revision: str) -> None:
    _off_loop(lambda: command.upgrade(alembic_config(url), revision))


def downgrade_to(url: str, revision: str) -> None:
    _off_loop(lambda: command.downgrade(alembic_config(url), revision))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


@dataclass(frozen=True, slots=True)
class SchemaHistory:
    head: str | None
    known: frozenset[str]
    """Every revision this release has a script for."""


@functools.cache
def schema_history() -> SchemaHistory:
    """The migrations this release ships (read once per process: Alembic imports every
    script to walk them)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return SchemaHistory(head=script.get_current_head(), known=known)


def _read_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def database_revision(connection: AsyncConnection) -> str | None:
    """The revision the database behind `connection` is at; None when unmigrated (no
    `alembic_version` table is not an error)."""
    return await connection.run_sync(_read_revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an unmigrated database."""

    async def run() -> str | None:
        engine = create_migration_engine(url)
        try:
            async with engine.connect() as connection:
                return await database_revision(connection)
        finally:
            await engine.dispose()

    return _off_loop(lambda: asyncio.run(run()))


def _off_loop(work: Callable[[], T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrations") as pool:
        return pool.submit(work).result()
