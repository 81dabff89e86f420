"""Engines and session factories for PostgreSQL (asyncpg) and SQLite (aiosqlite).

Built by the composition root, never at import time.
"""

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy.sqlite_driver import OneTripAiosqlite

# Execution option of a transaction that will only read (see `SqlAlchemyUnitOfWork`).
READS_ONLY = "hexahub_reads_only"
# In a session's `info`: a statement ran outside the session's own connection.
REACHED_DATABASE = "hexahub_reached_database"

# Drivers this adapter speaks; a bare "postgresql://" or "sqlite://" gets the async one.
_ASYNC_DRIVERS = {"postgresql": "asyncpg", "postgres": "asyncpg", "sqlite": "aiosqlite"}


def normalize_url(url: str | URL) -> URL:
    """The URL with its async driver filled in (`postgresql://` -> `postgresql+asyncpg://`)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if parsed.drivername in _ASYNC_DRIVERS:
        backend = "postgresql" if backend == "postgres" else backend
        parsed = parsed.set(drivername=f"{backend}+{_ASYNC_DRIVERS[parsed.drivername]}")
    return parsed


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 5.0,
    connect_timeout: float = 5.0,
    statement_timeout_ms: int = 10_000,
) -> AsyncEngine:
    """An engine for the application.

    PostgreSQL: a connection idle for more than a second is pinged before use (so a
    server restart costs one reconnect, not a burst of errors, while a busy pool pays
    nothing), connecting gives up after `connect_timeout`, and
    statements are cancelled server side after `statement_timeout_ms` (with a
    client-side backstop a second later). A caller finding every connection in use
    waits up to `pool_timeout` for one (then `StorageBusyError`: back-pressure, which the
    circuit breaker ignores). Each connection prepares a statement once and keeps it
    (`prepared_statement_cache_size`; behind PgBouncer in transaction mode set it to 0
    with `?prepared_statement_cache_size=0` on the URL).

    SQLite: a file database in WAL mode with foreign keys enforced, each statement one
    trip to aiosqlite's thread (`sqlite_driver`). Every transaction starts with BEGIN
    IMMEDIATE, so writers queue (this process's in order, behind each other; other
    processes' on the file lock; up to 5 s) instead of failing with "database is locked"
    when a reader tries to become a writer. A session marked read-only (execution
    option `READS_ONLY`) runs its statements in autocommit, each reading its own snapshot
    without waiting.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(
            parsed, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
        )
    connect_args: dict[str, Any] = {
        "timeout": connect_timeout,
        "command_timeout": statement_timeout_ms / 1000 + 1.0,
        "server_settings": {"statement_timeout": str(statement_timeout_ms)},
    }
    if "prepared_statement_cache_size" not in parsed.query:
        # Room for every distinct statement the app runs: each is prepared once per
        # connection, then only bound and executed (the URL's own value wins).
        connect_args["prepared_statement_cache_size"] = 256
    engine = create_async_engine(
        parsed,
        hide_parameters=True,  # errors and logs must never carry emails or hashes
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    _ping_idle_connections(engine)
    return engine


# SQLAlchemy's pool_pre_ping pings on every checkout, and asyncpg's ping is three round
# trips (BEGIN, an empty statement, ROLLBACK, so that it also works behind PgBouncer):
# measured with bench/perf.py, a tenth of the CPU of an authenticated request. A
# connection back in the pool less than this long ago was working a moment ago.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping a connection on checkout only when it sat idle; a dead one is replaced (and
    the pool's older connections with it) before the caller sees it. This is
    SQLAlchemy's documented "pessimistic disconnect handling" recipe, made conditional."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or busy a moment ago
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError("connection lost while idle in the pool") from error


_CHECKED_IN = "hexahub_checked_in_at"


def create_migration_engine(url: str | URL) -> AsyncEngine:
    """A short-lived engine for Alembic: no pool, and on SQLite no foreign-key pragma
    (batch migrations rebuild tables, which must not fire ON DELETE CASCADE), but still
    real transactions so a failed migration leaves the schema as it was."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, poolclass=NullPool, hide_parameters=True)
    _ensure_parent_dir(parsed)
    engine = create_async_engine(
        parsed, module=_sqlite_driver(), poolclass=NullPool, hide_parameters=True
    )
    _take_over_sqlite_transactions(engine)
    return engine


def create_session_factory(
    engine: AsyncEngine, *, reads_only: bool = False
) -> async_sessionmaker[Any]:
    """Sessions for `SqlAlchemyUnitOfWork`. Entities are mapped out of rows before
    commit, so nothing needs to be reloaded after it (`expire_on_commit=False`).

    `reads_only` on PostgreSQL: sessions whose statements run in autocommit. A read at
    READ COMMITTED (the default) takes a new snapshot per statement anyway, so BEGIN and
    ROLLBACK around it add two round trips and nothing else; a cache miss or a page of
    users then costs one trip instead of three. The pool restores the default isolation
    when the connection comes back, so writers never see autocommit."""
    if reads_only and engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(engine, expire_on_commit=False)


# How long a writer waits for SQLite's write lock: behind this process's writers
# (`sqlite_driver.Writers`), or another process's (SQLite's busy timeout).
SQLITE_WRITE_WAIT_SECONDS = 5.0


def _sqlite_driver() -> OneTripAiosqlite:
    return OneTripAiosqlite(write_wait_seconds=SQLITE_WRITE_WAIT_SECONDS)


def _create_sqlite_engine(
    url: URL, *, pool_size: int, max_overflow: int, pool_timeout: float
) -> AsyncEngine:
    _ensure_parent_dir(url)
    engine = create_async_engine(
        url,
        module=_sqlite_driver(),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: the journal-mode switch below may have to wait too.
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_WRITE_WAIT_SECONDS * 1000)}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    _take_over_sqlite_transactions(engine)
    return engine


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    """SQLAlchemy's documented recipe: stop the sqlite3 driver from issuing its own
    (deferred, DML-only) BEGIN and emit ours on every transaction start.

    BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that read first
    and then writes can fail at once with SQLITE_BUSY (the busy timeout does not apply
    to a lock upgrade), whereas a queued BEGIN IMMEDIATE simply waits its turn.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _disable_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _emit_begin(connection: Any) -> None:
        # A session that only reads runs its statements in autocommit, as on
        # PostgreSQL (`create_session_factory`): each takes its own WAL snapshot beside
        # the writers, and BEGIN and ROLLBACK around it would be two more trips to
        # aiosqlite's thread, each a wait for the event loop under load.
        if connection.get_execution_options().get(READS_ONLY, False):
            return
        connection.connection.dbapi_connection.begin()


def _ensure_parent_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
