"""On PostgreSQL, sessions that only read run their statements in autocommit (one round
trip per read instead of BEGIN, the read and ROLLBACK), and the connection they used is
a transactional one again when a writer takes it from the pool."""

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.engine import create_engine, create_session_factory

pytestmark = pytest.mark.postgres


async def two_transaction_times(session: AsyncSession) -> tuple[datetime, datetime]:
    """`now()` is the start of the current transaction."""
    first = await session.scalar(text("SELECT now()"))
    await asyncio.sleep(0.01)
    second = await session.scalar(text("SELECT now()"))
    assert first is not None
    assert second is not None
    return first, second


async def test_reads_run_outside_a_transaction_and_writers_inside_one(
    postgres_database_url: str,
) -> None:
    engine = create_engine(postgres_database_url, pool_size=1, max_overflow=0)
    try:
        reads = create_session_factory(engine, reads_only=True)
        writes = create_session_factory(engine)
        for _ in range(2):  # the one pooled connection goes back and forth
            async with reads() as session:
                first, second = await two_transaction_times(session)
                assert second > first, "each read is its own transaction"
            async with writes() as session:
                first, second = await two_transaction_times(session)
                assert second == first, "a writer's statements share one transaction"
                await session.rollback()
    finally:
        await engine.dispose()
