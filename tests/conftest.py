"""Session-wide fixtures: real servers when present, and a per-suite tally.

Any test that uses a `postgres_*` fixture is marked `postgres`, any that uses a `redis_*`
fixture `redis`, so CI output shows how many tests ran against each real server.
"""

import asyncio
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from tests import backends

pytest_plugins = ["tests.mail_catcher", "tests.tracing"]

SUITES = ("postgres", "redis", "faults", "browser")  # counted at the end of the output


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if any(n.startswith("postgres") for n in names):
            item.add_marker(pytest.mark.postgres)
        if any(n.startswith("redis") for n in names):
            item.add_marker(pytest.mark.redis)


_tally: Counter[tuple[str, str]] = Counter()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    # By marker, not keyword: keywords hold folder names too (a checkout in .../browser).
    # Read when the report is made, so the markers fixtures add (the `backend` fixture's
    # Postgres case) count too; carried on the report, which pytest-xdist sends from its
    # workers to the process that prints the tally.
    suites = sorted({m.name for m in item.iter_markers()} & set(SUITES))
    report.user_properties.append(("suites", suites))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for suite in dict(report.user_properties).get("suites", ()):
            _tally[(suite, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("real-server suites")
    for suite in SUITES:
        passed, failed, skipped = (_tally[(suite, o)] for o in ("passed", "failed", "skipped"))
        terminalreporter.write_line(f"{suite}: {passed} passed, {failed} failed, {skipped} skipped")


# --- PostgreSQL: one throwaway database per test run, migrated once ------------------


@pytest.fixture(scope="session")
async def postgres_database_url() -> AsyncIterator[str]:
    import asyncpg

    from adapters.sqlalchemy.migrations import upgrade_to_head

    base = backends.postgres_url()
    dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        backends.unavailable("PostgreSQL", base, error)
    name = f"hexahub_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_clean_url(postgres_database_url: str) -> AsyncIterator[str]:
    """The run's database, emptied before and after the test. Before too: fixtures end
    in reverse order, so a test that asked for the apps first had them stopped only
    after this emptied the database, and a background write in between (a signing key
    sealed with that test's own encryption key, say) reached the next test."""
    await _empty(postgres_database_url)
    yield postgres_database_url
    await _empty(postgres_database_url)


async def _empty(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        # `roles` keeps the built-in rows migration 0002 seeds (user_roles references
        # them); only custom roles go. TRUNCATE fires no row triggers, so the append-only
        # audit_events table empties too.
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('alembic_version', 'roles')"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")
        await conn.execute("DELETE FROM roles WHERE NOT builtin")
    finally:
        await conn.close()


# --- SQLite: migrate a template once, copy it per test --------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from adapters.sqlalchemy.migrations import upgrade_to_head

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "hexahub.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


# --- Redis: the shared server, with a key prefix per test -----------------------------


@pytest.fixture(scope="session")
async def redis_server_url() -> str:
    import redis.asyncio as aioredis

    url = backends.redis_url()
    client = aioredis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as error:
        backends.unavailable("Redis", url, error)
    finally:
        await client.aclose()
    return url


@pytest.fixture
def redis_prefix() -> str:
    """Keys of one test never meet another's (or a running instance's)."""
    return f"hexahub-test-{uuid.uuid4().hex[:12]}:"
