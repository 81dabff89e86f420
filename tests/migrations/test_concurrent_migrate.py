"""Many replicas run `hexahub migrate` at once: on PostgreSQL they queue on an advisory
lock, every one exits 0, and the schema is built exactly once."""

import asyncio
import os
import subprocess
import sys
import time

import asyncpg
import pytest

from adapters.sqlalchemy.migrations import MIGRATION_LOCK_KEY, head_revision

pytestmark = pytest.mark.postgres

FIRST_STEP = "-> 0001_initial"


def start_migrate(url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env |= {"DATABASE_URL": url, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def waiting_for_the_lock(connection: asyncpg.Connection) -> int:
    # An advisory lock on a bigint key shows its high and low halves in classid/objid.
    return int(
        await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    )


async def assert_migrated_once(url: str, outputs: list[str]) -> None:
    assert sum(output.count(FIRST_STEP) for output in outputs) == 1, outputs
    connection = await asyncpg.connect(plain(url))
    try:
        versions = await connection.fetch("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    assert [row["version_num"] for row in versions] == [head_revision()]


async def test_two_migrations_started_at_once_both_succeed_and_migrate_once(
    postgres_empty_url: str,
) -> None:
    processes = [start_migrate(postgres_empty_url) for _ in range(2)]
    results = await asyncio.gather(*(asyncio.to_thread(finish, p) for p in processes))
    for returncode, output in results:
        assert returncode == 0, output
    await assert_migrated_once(postgres_empty_url, [output for _, output in results])


async def test_a_migration_waits_while_another_holds_the_lock(postgres_empty_url: str) -> None:
    holder = await asyncpg.connect(plain(postgres_empty_url))
    try:
        # Stand in for a migration that is taking its time: both processes must queue.
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        processes = [start_migrate(postgres_empty_url) for _ in range(2)]
        deadline = time.monotonic() + 60
        while await waiting_for_the_lock(holder) < 2:
            assert time.monotonic() < deadline, "the migrations did not wait for the lock"
            assert all(p.poll() is None for p in processes), "a migration ran without the lock"
            await asyncio.sleep(0.2)
        assert await holder.fetchval("SELECT to_regclass('public.users')") is None
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
        results = await asyncio.gather(*(asyncio.to_thread(finish, p) for p in processes))
    finally:
        await holder.close()
    for returncode, output in results:
        assert returncode == 0, output
        assert "migration_lock_wait" in output
    await assert_migrated_once(postgres_empty_url, [output for _, output in results])
