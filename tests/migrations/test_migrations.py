"""The migrations build exactly the schema the adapter maps, and undo cleanly."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.migrations import (
    alembic_config,
    current_revision,
    downgrade_to,
    downgrade_to_base,
    head_revision,
    upgrade_to,
    upgrade_to_head,
)
from adapters.sqlalchemy.models import metadata
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.contract.persistence import make_user

APP_TABLES = {"users", "user_roles", "sessions", "refresh_tokens"}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def _drift(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_stairway_up_and_down_every_revision(empty_url: str) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config(empty_url)).walk_revisions())
    revisions.reverse()  # base first
    assert revisions, "no migrations found"

    for revision in revisions:
        down = revision.down_revision or "base"
        assert isinstance(down, str), "the stairway expects a linear history"
        await asyncio.to_thread(upgrade_to, empty_url, revision.revision)
        await asyncio.to_thread(downgrade_to, empty_url, down)
        await asyncio.to_thread(upgrade_to, empty_url, revision.revision)

    assert await asyncio.to_thread(current_revision, empty_url) == head_revision()
    assert await _tables(empty_url) == APP_TABLES

    await asyncio.to_thread(downgrade_to_base, empty_url)
    assert await _tables(empty_url) == set()
    assert await asyncio.to_thread(current_revision, empty_url) is None

    await asyncio.to_thread(upgrade_to_head, empty_url)
    assert await _tables(empty_url) == APP_TABLES


async def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    # Called straight from the running loop on purpose: it must cope.
    upgrade_to_head(empty_url)

    assert await _drift(empty_url) == []


async def test_a_migrated_database_serves_the_adapter(empty_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_url)
    engine = create_engine(empty_url)
    factory = create_session_factory(engine)
    user = make_user("alice")
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.add(user)
            await uow.commit()
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert await uow.users.get(user.id) is not None
    finally:
        await engine.dispose()
