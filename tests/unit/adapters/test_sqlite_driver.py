"""The SQLite engine runs each statement in one trip to aiosqlite's thread and still
answers as the driver does (rows, row counts, new row ids and errors), and queues the
process's writers in order instead of leaving them to SQLite's busy handler."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import engine as engine_module
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url, pool_size=1)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
        )
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to aiosqlite's thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_query_returns_its_rows_and_columns(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "a"}, {"body": "b"}]
        )
        result = await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))
        assert list(result.keys()) == ["id", "body"]
        assert [tuple(row) for row in result] == [(1, "a"), (2, "b")]


async def test_writes_report_their_row_counts_and_new_ids(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        many = await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "a"}, {"body": "b"}]
        )
        assert many.rowcount == 2
        one = await connection.execute(text("INSERT INTO notes (body) VALUES ('c')"))
        assert one.lastrowid == 3
        updated = await connection.execute(text("UPDATE notes SET body = body || '!'"))
        assert updated.rowcount == 3
        returned = await connection.execute(text("DELETE FROM notes WHERE id > 1 RETURNING body"))
        assert sorted(returned.scalars()) == ["b!", "c!"]


async def test_driver_errors_reach_the_caller_as_sqlalchemy_errors(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        await connection.rollback()
        with pytest.raises(OperationalError):
            await connection.execute(text("SELECT nothing FROM nowhere"))


async def test_a_statement_is_one_trip_to_the_driver_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the transaction's BEGIN goes with it
        assert len(trips) == 1
        trips.clear()
        rows = await connection.execute(text("SELECT body FROM notes"))
        assert rows.all() == []
        assert len(trips) == 1
        trips.clear()
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert len(trips) == 1


async def test_writers_of_one_process_take_turns_without_contending_for_the_file(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url, pool_size=8)

    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        # Any writer that met another at SQLite's lock would now fail at once.
        dbapi_connection.cursor().execute("PRAGMA busy_timeout=0")

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (body TEXT)"))

    async def write(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES (:n)"), {"n": str(n)})
            await asyncio.sleep(0.01)  # hold the write lock across an await

    try:
        async with asyncio.TaskGroup() as group:
            for n in range(8):
                group.create_task(write(n))
        async with engine.connect() as connection:
            written = await connection.scalars(text("SELECT body FROM notes"))
            assert sorted(written) == [str(n) for n in range(8)]
    finally:
        await engine.dispose()


async def test_a_writer_waiting_for_its_own_callers_write_fails_instead_of_hanging(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WRITE_WAIT_SECONDS", 0.2)
    engine = create_engine(sqlite_url, pool_size=2)
    try:
        async with engine.begin() as outer:
            await outer.execute(text("SELECT 1"))
            # SQLite's own error, as when its busy timeout runs out.
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                async with engine.begin() as inner:
                    await inner.execute(text("SELECT 1"))
        async with engine.begin() as after:  # the queue moved on
            await after.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_a_committed_connection_goes_back_to_the_pool_in_one_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        trips.clear()
    # The COMMIT; the pool's reset (a ROLLBACK) has nothing to undo and stays here.
    assert len(trips) == 1
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM notes"))) == 1


async def test_a_write_transaction_is_its_statements_and_its_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('b')"))
    assert len(trips) == 3  # BEGIN IMMEDIATE went with the first INSERT
    async with engine.connect() as connection:
        assert (await connection.scalar(text("SELECT count(*) FROM notes"))) == 2


async def test_a_transaction_that_ran_nothing_costs_no_trip_and_frees_the_queue(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin():
        pass
    with pytest.raises(RuntimeError):
        async with engine.begin():
            raise RuntimeError("rolled back before any statement")
    assert trips == []
    async with asyncio.timeout(2):  # the next writer is not kept waiting
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))


async def test_a_writer_holding_the_event_order_holds_the_file_lock(sqlite_url: str) -> None:
    """Another process's writer (here another engine, with its own queue) cannot commit
    between a writer's `hold_order` and its end: ids drawn after it commit in order."""
    ours = create_engine(sqlite_url, pool_size=1)
    theirs = create_engine(sqlite_url, pool_size=1)

    @event.listens_for(theirs.sync_engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.cursor().execute("PRAGMA busy_timeout=0")

    try:
        async with SqlAlchemyUnitOfWork(create_session_factory(ours)) as uow:
            await uow.events.hold_order()
            with pytest.raises(OperationalError, match="database is locked"):
                async with theirs.begin() as connection:
                    await connection.execute(text("SELECT 1"))
    finally:
        await ours.dispose()
        await theirs.dispose()
