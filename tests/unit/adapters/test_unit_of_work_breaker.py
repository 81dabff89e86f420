"""SqlAlchemyUnitOfWork behind the database circuit breaker, on a real SQLite file and a
database that cannot be opened: failing transactions open the circuit, an open circuit
refuses without connecting, and the first transaction that reaches the database again
closes it."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from adapters.resilience.circuit_breaker import BreakerState, CircuitBreaker
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import InvalidTokenError, StorageBusyError, StorageUnavailableError
from application.ports.user_repository import UserFilter


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Database:
    """Session factories for a working database and for one that cannot be opened."""

    def __init__(self, up: async_sessionmaker[Any], down: async_sessionmaker[Any]) -> None:
        self._up, self._down = up, down
        self.is_down = False
        self.sessions_opened = 0

    def __call__(self) -> Any:
        self.sessions_opened += 1
        return (self._down if self.is_down else self._up)()


@pytest.fixture
async def database(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Database]:
    # A path below a regular file: SQLite fails with "unable to open database file".
    (tmp_path / "not-a-directory").write_text("")
    broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/not-a-directory/x.db")
    engine = create_engine(sqlite_url)
    yield Database(create_session_factory(engine), create_session_factory(broken))
    await engine.dispose()
    await broken.dispose()


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def breaker(clock: FakeMonotonic) -> CircuitBreaker:
    return CircuitBreaker(
        "database",
        unavailable=StorageUnavailableError,
        failure_threshold=2,
        reset_timeout=5,
        monotonic=clock,
    )


def uow(database: Database, breaker: CircuitBreaker) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(database, breaker=breaker)


async def read(database: Database, breaker: CircuitBreaker) -> None:
    async with uow(database, breaker) as work:
        await work.users.get(uuid.uuid4())


async def open_circuit(database: Database, breaker: CircuitBreaker) -> None:
    database.is_down = True
    for _ in range(2):
        with pytest.raises(StorageUnavailableError):
            await read(database, breaker)
    assert breaker.state is BreakerState.OPEN


async def test_an_open_circuit_refuses_without_touching_the_database(
    database: Database, breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    await open_circuit(database, breaker)
    opened = database.sessions_opened
    clock.now = 1.5
    with pytest.raises(StorageUnavailableError) as refused:
        await read(database, breaker)
    assert refused.value.retry_after == 4
    assert database.sessions_opened == opened


async def test_the_first_transaction_that_reaches_the_database_again_closes_it(
    database: Database, breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    await open_circuit(database, breaker)
    clock.now = 5
    with pytest.raises(StorageUnavailableError):
        await read(database, breaker)  # the probe, still down: open again
    assert breaker.state is BreakerState.OPEN

    database.is_down = False
    clock.now = 10
    await read(database, breaker)
    assert breaker.state is BreakerState.CLOSED
    await read(database, breaker)


async def test_a_refusal_after_the_database_answered_counts_as_an_answer(
    database: Database, breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    await open_circuit(database, breaker)
    database.is_down = False
    clock.now = 5

    async def refuse_after_reading() -> None:
        async with uow(database, breaker) as work:
            await work.users.get(uuid.uuid4())
            raise InvalidTokenError()

    with pytest.raises(InvalidTokenError):
        await refuse_after_reading()
    assert breaker.state is BreakerState.CLOSED


async def test_a_transaction_that_never_reached_the_database_proves_nothing(
    database: Database, breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    await open_circuit(database, breaker)
    clock.now = 5
    async with uow(database, breaker):
        pass
    assert breaker.state is BreakerState.HALF_OPEN
    opened = database.sessions_opened
    with pytest.raises(StorageUnavailableError):
        await read(database, breaker)
    assert database.sessions_opened == opened + 1  # the probe slot was handed back
    assert breaker.state is BreakerState.OPEN  # and this probe found the database down


async def test_failures_must_run_together_to_open_it(
    database: Database, breaker: CircuitBreaker
) -> None:
    for _ in range(3):
        database.is_down = True
        with pytest.raises(StorageUnavailableError):
            await read(database, breaker)
        database.is_down = False
        await read(database, breaker)
    assert breaker.state is BreakerState.CLOSED


async def test_an_exhausted_pool_is_back_pressure_and_never_opens_the_circuit(
    sqlite_url: str, breaker: CircuitBreaker
) -> None:
    # One pooled connection, held by a transaction in progress: every other caller waits
    # briefly for it, then is refused as busy, many times over the failure threshold.
    engine = create_engine(sqlite_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    factory = create_session_factory(engine)
    try:
        async with SqlAlchemyUnitOfWork(factory, breaker=breaker) as holder:
            await holder.users.get(uuid.uuid4())
            for _ in range(5):
                with pytest.raises(StorageBusyError) as refused:
                    async with SqlAlchemyUnitOfWork(factory, breaker=breaker) as waiter:
                        await waiter.users.get(uuid.uuid4())
                assert refused.value.retry_after == 1
                assert breaker.state is BreakerState.CLOSED
        # The connection is back: the next caller is served at once.
        async with SqlAlchemyUnitOfWork(factory, breaker=breaker) as work:
            assert await work.users.get(uuid.uuid4()) is None
        assert breaker.state is BreakerState.CLOSED
    finally:
        await engine.dispose()


async def test_a_busy_refusal_is_still_a_storage_refusal_to_callers(
    sqlite_url: str,
) -> None:
    """Code that handles "the database cannot serve now" handles "busy" too."""
    engine = create_engine(sqlite_url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    factory = create_session_factory(engine)
    try:
        async with SqlAlchemyUnitOfWork(factory) as holder:
            await holder.users.get(uuid.uuid4())
            with pytest.raises(StorageUnavailableError):
                async with SqlAlchemyUnitOfWork(factory) as waiter:
                    await waiter.users.get(uuid.uuid4())
    finally:
        await engine.dispose()


async def list_users(database: Database, breaker: CircuitBreaker) -> None:
    async with uow(database, breaker) as work:
        await work.users.list(filter=UserFilter(), after=None, limit=10)


async def test_a_page_of_users_read_on_a_connection_of_its_own_counts_like_any_read(
    database: Database, breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    database.is_down = True
    for _ in range(2):
        with pytest.raises(StorageUnavailableError):
            await list_users(database, breaker)
    assert breaker.state is BreakerState.OPEN

    database.is_down = False
    clock.now = 5
    await list_users(database, breaker)
    assert breaker.state is BreakerState.CLOSED
