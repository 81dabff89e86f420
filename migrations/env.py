"""Alembic environment: async engines, the URL from the caller or the environment.

URL precedence: `config.attributes["url"]` (set by adapters.sqlalchemy.migrations),
then DATABASE_URL, then the SQLite file ./var/hexahub.db.
"""

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import create_migration_engine, normalize_url
from adapters.sqlalchemy.migrations import lock_for_migration
from adapters.sqlalchemy.models import metadata

DEFAULT_URL = "sqlite+aiosqlite:///./var/hexahub.db"

config = context.config
if config.config_file_name is not None and not config.attributes.get("url"):
    # Only the command line configures logging; a programmatic caller keeps its own.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL") or DEFAULT_URL
    return str(url)


def _configure(**kwargs: object) -> None:
    dialect = normalize_url(_url()).get_backend_name()
    context.configure(
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=dialect == "sqlite",
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=normalize_url(_url()), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        # Before Alembic reads the current revision: a concurrent `hexahub migrate`
        # waits here, then finds the schema at head and has nothing to do.
        lock_for_migration(connection)
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_migration_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    # A fresh loop of our own: callers run this from a thread with no loop running
    # (adapters.sqlalchemy.migrations makes sure of it).
    asyncio.run(run_async_migrations())
