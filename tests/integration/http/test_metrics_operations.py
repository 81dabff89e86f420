"""The operational families of `GET /metrics` (rate-limit refusals, active sessions, the
database pool and statement latency, Redis latency, memory) after real traffic, read
with the official Prometheus parser.

The registry is process-global: counters and histograms are compared before and after
the traffic; gauges are read as set by the app under test.
"""

import re
from typing import Any

import pytest

from adapters.metrics.database import OPERATIONS
from application.ports.rejection_listener import LIMIT_NAMES
from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, register
from tests.integration.http.test_metrics import Samples, moved, scrape, value

REJECTIONS = "hexahub_rate_limit_rejections_total"
QUERIES = "hexahub_db_query_duration_seconds"
REDIS = "hexahub_redis_command_duration_seconds"


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


def moved_by_label(before: Samples, after: Samples, name: str, label: str) -> dict[str, float]:
    return {v: moved(before, after, name, **{label: v}) for v in label_values(after, name, label)}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_operational_families_after_traffic(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    client = await app_factory(
        **backend, rate_limit_enabled=True, rate_limit_login_per_account="2/60"
    )
    before = await scrape(client)

    ada, bob = await register(client), await register(client)
    await login(client, ada["username"])
    await login(client, ada["username"])
    third = await client.post(
        "/api/v1/auth/login", json={"username": ada["username"], "password": PASSWORD}
    )
    assert third.status_code == 429
    bob_tokens = await login(client, bob["username"])
    logout = await client.post("/api/v1/auth/logout", headers=bearer(bob_tokens))
    assert logout.status_code == 204

    after = await scrape(client)

    # Refusals are named by the budget that ran out, never by the account or address.
    assert label_values(after, REJECTIONS, "limit") == set(LIMIT_NAMES)
    refusals = moved_by_label(before, after, REJECTIONS, "limit")
    assert refusals == {name: (1 if name == "login_per_account" else 0) for name in LIMIT_NAMES}

    # Every statement is timed under one of a fixed set of operations.
    assert label_values(after, f"{QUERIES}_count", "operation") == set(OPERATIONS)
    for operation in ("select", "insert", "update"):
        assert moved(before, after, f"{QUERIES}_count", operation=operation) > 0, operation
    assert moved(before, after, f"{QUERIES}_sum", operation="insert") > 0

    # Redis is timed per command name when it is configured, and only then.
    commands = moved_by_label(before, after, f"{REDIS}_count", "command")
    if "redis_url" in backend:
        # The logout announced the revocation with a pipeline; the limiter ran a script.
        assert commands["PIPELINE"] >= 1
        assert commands["EVALSHA"] >= 1
        assert all(re.fullmatch(r"[A-Z][A-Z ]*", name) for name in commands)
    else:
        assert not any(commands.values())

    # The gauges are sampled at start-up and on a timer; a second instance on the same
    # storage samples at its start and so sees the sessions the first one made.
    await app_factory(**backend)
    sampled = await scrape(client)
    assert value(sampled, "hexahub_active_sessions") == 2  # ada twice; bob logged out

    pool = {
        state: value(sampled, "hexahub_db_pool_connections", state=state)
        for state in ("in_use", "idle", "overflow")
    }
    assert label_values(sampled, "hexahub_db_pool_connections", "state") == set(pool)
    assert pool["idle"] >= 1  # the start-up queries left their connection in the pool
    assert pool["in_use"] >= 0
    assert pool["overflow"] == 0

    resident = value(sampled, "hexahub_process_resident_memory_bytes")
    limit = value(sampled, "hexahub_memory_limit_bytes")
    assert 10 * 2**20 < resident < limit


async def test_the_general_budget_counts_its_refusals(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=True,
        rate_limit_requests_per_client="3/60",
    )
    before = await scrape(client)
    statuses = [(await client.get("/")).status_code for _ in range(6)]
    after = await scrape(client)

    assert statuses.count(429) == 3
    refusals = moved_by_label(before, after, REJECTIONS, "limit")
    assert refusals["requests_per_client"] == 3
    assert sum(refusals.values()) == 3
    # The client's address never becomes a label.
    assert not any("127.0.0.1" in v or "testclient" in v for _, ls in after for _, v in ls)
