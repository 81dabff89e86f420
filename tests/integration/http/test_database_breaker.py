"""The database circuit breaker seen from outside, on a Postgres URL nobody listens on:
after a run of failures the circuit opens, requests are refused at once with 503 and a
Retry-After counting down to the next probe, readiness and metrics say so, and
liveness stays up. (Recovery is covered with a fake clock in
tests/unit/adapters/test_unit_of_work_breaker.py, and with a database really coming
back in test_database_outage.py.)"""

import httpx

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import gauge

DOWN = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


async def log_in(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"username": "someone", "password": "whatever-1"}
    )


async def test_a_run_of_failures_opens_the_circuit_and_503s_come_at_once(
    app_factory: AppFactory,
) -> None:
    client = await app_factory(
        database_url=DOWN,
        database_connect_timeout_seconds=0.5,
        circuit_failure_threshold=2,
        circuit_reset_seconds=30,
    )
    # Background work (the mail dispatcher) may have met the outage first; two more
    # failures open the circuit whatever it counted.
    answers = [await log_in(client) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 503]
    refused = answers[-1]
    assert refused.json()["error"] == "service_unavailable"
    # The seconds left until the breaker lets a probe through, not a fixed guess.
    assert 25 <= int(refused.headers["retry-after"]) <= 30

    assert (await client.get("/health")).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"] == {
        "status": "unavailable",
        "error": "circuit_open",
        "circuit": "open",
    }
    assert ready.json()["checks"]["cache"]["status"] == "ok"
    db = await client.get("/health/db")
    assert db.status_code == 503
    assert db.json()["checks"]["database"]["circuit"] == "open"

    metrics = (await client.get("/metrics")).text
    assert gauge(metrics, "hexahub_circuit_breaker_state", "database", state="open") == 1
    assert gauge(metrics, "hexahub_circuit_breaker_state", "database", state="half_open") == 0
    assert gauge(metrics, "hexahub_dependency_up", "database") == 0


async def test_readiness_shows_a_closed_circuit_and_the_dependency_up_when_all_is_well(
    app_factory: AppFactory, sqlite_url: str
) -> None:
    client = await app_factory(database_url=sqlite_url)
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    database = ready.json()["checks"]["database"]
    assert (database["status"], database["circuit"]) == ("ok", "closed")
    assert database["latency_ms"] >= 0
    # No Redis configured: no breaker guards the in-process revocation store.
    assert "circuit" not in ready.json()["checks"]["cache"]
    metrics = (await client.get("/metrics")).text
    assert gauge(metrics, "hexahub_circuit_breaker_state", "database", state="closed") == 1
    assert gauge(metrics, "hexahub_circuit_breaker_state", "database", state="open") == 0
    assert gauge(metrics, "hexahub_dependency_up", "database") == 1
