"""SQLAlchemy's aiosqlite adapter, with each statement run in one trip to the thread
and this process's writers queued in order.

- aiosqlite runs sqlite3 on a thread of its own, and every awaited call is a trip there
  and back (a queue put, a thread wake-up, a wake-up of the event loop). SQLAlchemy's
  adapter makes four per query (open a cursor, execute, fetch the rows, close) and three
  per write; a login's twenty statements made about seventy. Here the cursor does all
  of it in one function on aiosqlite's thread and keeps what the caller reads afterwards
  (the rows, `description`, `rowcount`, `lastrowid`). The driver, its errors and
  SQLAlchemy's translation of them are unchanged; only the number of trips differs.
- A writer's BEGIN IMMEDIATE goes to the thread with its first statement, in the
  same trip, and a transaction that ran no statement ends without one: a write
  transaction costs one trip less (a login's two were twelve, each a wait for the event
  loop under load, and the write lock is held that much shorter).
- A writer that finds the file's write lock taken is left to SQLite's busy handler,
  which polls with sleeps growing to 100 ms: the lock can sit free while every waiter
  sleeps, and four concurrent logins saw a p99 above a second. Writers of this process
  queue on an asyncio lock first, each woken as the one before it commits, so SQLite's
  lock is only contended by other processes (`WORKERS` > 1, the CLI), where the busy
  timeout still applies.

It goes in through `create_async_engine(module=...)`, SQLAlchemy's documented way to
hand a dialect another DB-API module.
"""

import asyncio
import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT, await_

# A writer's transaction: it takes the file's write lock at once (see the engine).
_BEGIN = "BEGIN IMMEDIATE"

# What a statement leaves on its cursor: description, rows (None for a write),
# rowcount, lastrowid.
_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _execute(
    connection: sqlite3.Connection,
    operation: str,
    parameters: Sequence[Any] | None,
    begin: bool,
) -> _Outcome:
    """On aiosqlite's thread: the whole statement, cursor opened and closed, after the
    transaction's BEGIN IMMEDIATE when it is the first."""
    if begin:
        connection.execute(_BEGIN)
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(
    connection: sqlite3.Connection,
    operation: str,
    parameters: Sequence[Sequence[Any]],
    begin: bool,
) -> _Outcome:
    if begin:
        connection.execute(_BEGIN)
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one trip; nothing of it stays open on
    the driver's side, so closing it costs no trip either."""

    __slots__ = ("_description", "_lastrowid", "_rowcount", "arraysize")
    _adapt_connection: "OneTripConnection"

    def __init__(self, adapt_connection: Any) -> None:
        # No driver cursor is opened here (the base class opens one: a trip).
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self.arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:  # type: ignore[override]
        return self._lastrowid

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            begin = self._adapt_connection.take_begin()
            outcome = await self._connection._execute(
                _execute, self._connection._conn, operation, parameters, begin
            )
        self._keep(outcome)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            begin = self._adapt_connection.take_begin()
            outcome = await self._connection._execute(
                _execute_many, self._connection._conn, operation, seq_of_parameters, begin
            )
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return None  # the driver's cursor closed with its statement

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # sqlite3 ignores them


class Writers:
    """This process's writers to one database, in order of arrival. A writer waits at
    most `timeout` seconds, as long as SQLite's busy timeout, and then fails as SQLite
    would ("database is locked"): a unit of work that would wait for its own caller's
    write transaction fails instead of hanging."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def enter(self) -> asyncio.Lock:
        """Called in SQLAlchemy's greenlet; the lock to release when the writer is done."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an asyncio lock is per loop
            self._lock, self._loop = asyncio.Lock(), loop
        lock = self._lock
        if not lock.locked():
            await_(lock.acquire())
            return lock
        try:
            await_(self._wait_for(lock))
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        return lock

    async def _wait_for(self, lock: asyncio.Lock) -> None:
        # asyncio.timeout rather than wait_for: no task of its own, whose wake-ups would
        # add two turns of the event loop to every hand-over of the lock.
        async with asyncio.timeout(self.timeout):
            await lock.acquire()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_begin_pending", "_writing")
    _cursor_cls = OneTripCursor
    dbapi: "OneTripAiosqlite"

    def __init__(self, dbapi: "OneTripAiosqlite", connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._writing: asyncio.Lock | None = None
        self._begin_pending = False

    def begin(self) -> None:
        """Start a write transaction once this process's earlier writers are done; its
        BEGIN IMMEDIATE goes with the first statement (`take_begin`)."""
        try:
            self._writing = self.dbapi.writers.enter()
        except Exception as error:
            self._handle_exception(error)
        self._begin_pending = True

    def take_begin(self) -> bool:
        """Whether the next statement must begin the transaction (asked once)."""
        pending, self._begin_pending = self._begin_pending, False
        return pending

    def begin_now(self) -> None:
        """Send a pending BEGIN IMMEDIATE at once: for a writer that must hold SQLite's
        write lock before its next step (drawing ids that must commit in order, say)."""
        if not self.take_begin():
            return
        try:
            await_(self._connection.execute_fetchall(_BEGIN))
        except Exception as error:
            self._handle_exception(error)

    def commit(self) -> None:
        driver = self._connection._connection
        if self.take_begin() or (driver is not None and not driver.in_transaction):
            # No statement ran, or each ran in autocommit: nothing to commit, no trip.
            self._done_writing()
            return
        self._ending(super().commit)

    def rollback(self) -> None:
        driver = self._connection._connection
        begun = self._writing is not None and not self.take_begin()
        if not begun and (driver is None or not driver.in_transaction):
            # Nothing to undo (a transaction that ran no statement, the pool's reset of
            # a connection whose transaction committed): no trip to the thread.
            self._done_writing()
            return
        self._ending(super().rollback)

    def close(self) -> None:
        self._ending(super().close)

    def terminate(self) -> None:
        self._ending(super().terminate)

    def _ending(self, end: Callable[[], None]) -> None:
        """End the transaction (or the connection), then let this process's next
        writer in, whether or not the end succeeded."""
        try:
            end()
        finally:
            self._done_writing()

    def _done_writing(self) -> None:
        if self._writing is not None:
            self._writing.release()
            self._writing = None


class OneTripAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect sees (`module=` of the engine);
    one per engine, so its writers queue per database."""

    def __init__(self, *, write_wait_seconds: float) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)
        self.writers = Writers(write_wait_seconds)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)
