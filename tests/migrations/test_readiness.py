"""A database that answers but is not migrated: readiness says so (503, a `migrations`
check naming what to run), the database itself reads as up, and the requests that meet
the missing tables never open the circuit breaker, so the instance is ready the moment
the schema is migrated."""

import asyncio

import sqlalchemy as sa
from structlog.testing import capture_logs

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.migrations import head_revision, upgrade_to, upgrade_to_head
from tests.integration.http.conftest import AppFactory
from tests.integration.http.conftest import app_factory as app_factory  # the app in process
from tests.integration.http.helpers import gauge

FIRST_REVISION = "0001_initial"


async def test_an_unmigrated_database_is_not_ready_and_not_an_outage(
    app_factory: AppFactory, empty_url: str
) -> None:
    client = await app_factory(database_url=empty_url, circuit_failure_threshold=2)

    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    migrations = body["checks"]["migrations"]
    assert migrations["status"] == "pending"
    assert migrations["revision"] is None
    assert migrations["expected"] == head_revision()
    assert "hexahub migrate" in migrations["message"]

    # Requests meet missing tables: errors, but not a database outage. (Captured: the
    # test's default console renderer would spend seconds drawing each traceback.)
    with capture_logs() as logs:
        for _ in range(4):
            answer = await client.post(
                "/api/v1/auth/login", json={"username": "nobody", "password": "whatever-1"}
            )
            assert answer.status_code == 500
            assert answer.json()["error"] == "internal_error"
    assert [e["event"] for e in logs].count("unhandled_error") == 4
    metrics = (await client.get("/metrics")).text
    assert gauge(metrics, "hexahub_circuit_breaker_state", "database", state="closed") == 1
    assert (await client.get("/health/db")).status_code == 200

    # Half-way is still not ready, and says where it stands.
    await asyncio.to_thread(upgrade_to, empty_url, FIRST_REVISION)
    partly = (await client.get("/health/ready")).json()["checks"]["migrations"]
    assert (partly["status"], partly["revision"]) == ("pending", FIRST_REVISION)

    await asyncio.to_thread(upgrade_to_head, empty_url)
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    migrated = ready.json()["checks"]["migrations"]
    assert migrated["status"] == "ok"
    assert migrated["revision"] == migrated["expected"] == head_revision()
    login = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "whatever-1"}
    )
    assert login.status_code == 401


async def test_a_database_migrated_by_a_newer_release_still_serves(
    app_factory: AppFactory, empty_url: str
) -> None:
    """During a rolling update the new release migrates first; the old replicas stay
    ready (migrations are written to keep the previous release working)."""
    await asyncio.to_thread(upgrade_to_head, empty_url)
    client = await app_factory(database_url=empty_url)
    await _stamp(empty_url, "9999_from_a_newer_release")

    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["migrations"]["revision"] == "9999_from_a_newer_release"


async def _stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision}
            )
    finally:
        await engine.dispose()
