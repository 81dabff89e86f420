"""Run the Alembic migrations in `migrations/` programmatically.

Synchronous on purpose (a CLI command, a test fixture, a deploy step). The Alembic
environment runs its own event loop, so these functions must not run on a thread whose
loop is running; when they are called from one they move to a worker thread.

Several processes may migrate one database at once (every replica at start-up, a
Kubernetes Job next to a rolling update): on PostgreSQL `migrations/env.py` takes
`lock_for_migration` first, so the others wait and then find the schema at head.
"""

import asyncio
import importlib.util
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.engine import create_migration_engine

log = structlog.get_logger()

T = TypeVar("T")

# The advisory lock's key: a fixed 64-bit number that other software sharing the
# database is unlikely to use, the first 8 bytes of sha256(b"hexahub:migrations"), signed.
MIGRATION_LOCK_KEY = -6896483347035536142


@cache
def migrations_dir() -> Path:
    """The Alembic scripts: the `migrations` package, which is the repository's
    migrations/ in a checkout or an editable install, and ships inside the wheel."""
    spec = importlib.util.find_spec("migrations")
    directory = Path(spec.origin).parent if spec and spec.origin else None
    if directory is None or not (directory / "env.py").is_file():
        raise RuntimeError("the Alembic scripts (package `migrations`) are not installed")
    return directory


@dataclass(frozen=True, slots=True)
class PendingMigration:
    revision: str
    description: str


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where a database stands against the migrations this code ships."""

    current: str | None
    """The database's revision; None when it was never migrated."""
    head: str | None
    pending: tuple[PendingMigration, ...]
    """Oldest first."""

    @property
    def known(self) -> bool:
        """False when the database is at a revision this code does not ship (a newer
        release migrated it): neither pending nor at head."""
        return self.current is None or self.current == self.head or bool(self.pending)

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` without reading alembic.ini (and without touching
    the caller's logging). The URL travels as an attribute: no %-escaping of passwords."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    return config


def lock_for_migration(connection: Connection) -> None:
    """Serialise migrations on PostgreSQL: a transaction-scoped advisory lock, taken
    before Alembic reads the current revision and released when the migration's
    transaction ends (commit, rollback, or a dropped connection). Others wait here,
    then see the revision the winner committed. SQLite needs nothing: migrations there
    begin with `BEGIN IMMEDIATE`, which already admits one writer at a time."""
    if connection.dialect.name != "postgresql":
        return
    key = {"key": MIGRATION_LOCK_KEY}
    if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar():
        log.info("migration_lock_wait", detail="another process is migrating; waiting for it")
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


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


@cache
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


def migration_status(url: str) -> MigrationStatus:
    """The database's revision, the newest this code ships, and what lies between."""
    scripts = ScriptDirectory.from_config(alembic_config(url))
    head = scripts.get_current_head()
    current = current_revision(url)
    revision_ids = {script.revision for script in scripts.walk_revisions()}
    pending: list[PendingMigration] = []
    if current is None or current in revision_ids:
        upper = head or "base"
        for script in scripts.iterate_revisions(upper, current or "base"):
            pending.append(PendingMigration(script.revision, (script.doc or "").strip()))
        pending.reverse()
    return MigrationStatus(current=current, head=head, pending=tuple(pending))


def _off_loop(work: Callable[[], T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="migrations") as pool:
        return pool.submit(work).result()
