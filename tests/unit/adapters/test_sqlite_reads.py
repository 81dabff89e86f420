"""On SQLite, a unit of work that only reads does not queue behind a writer: it reads
the last committed snapshot (WAL) while the writer holds the write lock, each statement
in autocommit."""

import asyncio
from typing import Any

import aiosqlite
import pytest

from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork


async def test_a_read_does_not_wait_for_a_writer(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url, pool_size=2)
    sessions = create_session_factory(engine)
    writer_holds_the_lock = asyncio.Event()
    release = asyncio.Event()
    try:

        async def write() -> None:
            async with SqlAlchemyUnitOfWork(sessions) as uow:
                await uow.roles.list()  # BEGIN IMMEDIATE: the write lock is now held
                writer_holds_the_lock.set()
                await release.wait()
                await uow.commit()

        writer = asyncio.create_task(write())
        await writer_holds_the_lock.wait()
        async with SqlAlchemyUnitOfWork(sessions, reads_only=True) as uow:
            # Would wait out the 5 s busy timeout (and fail) with BEGIN IMMEDIATE.
            roles = await asyncio.wait_for(uow.roles.list(), timeout=2)
        assert {role.name for role in roles} >= {"admin", "user"}
        release.set()
        await writer
    finally:
        release.set()
        await engine.dispose()


async def test_a_read_is_one_trip_per_statement(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No BEGIN and no ROLLBACK around it: each a wait for the event loop under load."""
    engine = create_engine(sqlite_url, pool_size=1)
    sessions = create_session_factory(engine)
    trips: list[Any] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await original(self, fn, *args, **kwargs)

    try:
        async with SqlAlchemyUnitOfWork(sessions, reads_only=True) as uow:
            await uow.roles.list()  # the pool's first connection: opened outside the count
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with SqlAlchemyUnitOfWork(sessions, reads_only=True) as uow:
            await uow.roles.list()
            await uow.roles.list()
        assert len(trips) == 2
    finally:
        await engine.dispose()
