"""The Postgres engine's pool on the real server: a pooled connection that died while
idle is replaced before anyone uses it, and a busy connection is reused without a ping."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy import engine as engines


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced_unseen(
    postgres_database_url: str,
) -> None:
    engine = engines.create_engine(postgres_database_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        admin = await asyncpg.connect(postgres_database_url.replace("+asyncpg", ""))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(engines.PING_AFTER_IDLE_SECONDS + 0.2)
        assert await _backend_pid(engine) != first  # no error: pinged, reconnected
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(
    postgres_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = engines.create_engine(postgres_database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            adapted = (await connection.get_raw_connection()).dbapi_connection
            first = int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        pings: list[object] = []
        real_ping = type(adapted).ping
        monkeypatch.setattr(type(adapted), "ping", lambda self: pings.append(real_ping(self)))
        for _ in range(5):
            assert await _backend_pid(engine) == first
        assert pings == []  # three round trips saved on every one of those checkouts
        await asyncio.sleep(engines.PING_AFTER_IDLE_SECONDS + 0.2)
        assert await _backend_pid(engine) == first
        assert len(pings) == 1
    finally:
        await engine.dispose()
