"""`GET /metrics` after real traffic, read with the official Prometheus parser.

The registry is process-global and other tests move the same counters, so every check
compares a scrape before the traffic with one after it, never absolute values.
"""

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import PASSWORD, login, register

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_business_counters_move_with_the_traffic(app_factory: AppFactory) -> None:
    # Strict refresh mode, so the second use of a token is detected without clock games.
    memory_client = await app_factory(
        database_url="memory://", _fake_hasher=True, refresh_reuse_grace_seconds=0
    )
    before = await scrape(memory_client)

    user = await register(memory_client)
    tokens = await login(memory_client, user["username"])
    wrong = await memory_client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD + "x"}
    )
    assert wrong.status_code == 401
    refreshed = await memory_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    reused = await memory_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401

    after = await scrape(memory_client)
    assert moved(before, after, "hexahub_registrations_total") == 1
    assert moved(before, after, "hexahub_logins_total", outcome="success", reason="") == 1
    failures = {
        labels: after[name, labels] - before.get((name, labels), 0.0)
        for name, labels in after
        if name == "hexahub_logins_total" and ("outcome", "failure") in labels
    }
    assert sum(failures.values()) == 1
    wrong_password = {"outcome": "failure", "reason": "invalid_credentials"}
    assert moved(before, after, "hexahub_logins_total", **wrong_password) == 1
    assert moved(before, after, "hexahub_refreshes_total", outcome="success") == 1
    assert moved(before, after, "hexahub_refreshes_total", outcome="reuse_detected") == 1
    # Declared even before the first lockout or first API-key use, so dashboards and
    # alerts see a zero rather than a missing series.
    assert ("hexahub_lockouts_total", frozenset()) in after
    assert ("hexahub_api_key_first_uses_total", frozenset()) in after


async def test_api_key_uses_are_counted_by_outcome(memory_client: httpx.AsyncClient) -> None:
    user = await register(memory_client)
    tokens = await login(memory_client, user["username"])
    created = await memory_client.post(
        "/api/v1/api-keys",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        json={"name": "reporting", "scopes": [], "current_password": user["password"]},
    )
    assert created.status_code == 201, created.text
    before = await scrape(memory_client)
    for _ in range(2):
        used = await memory_client.get(
            "/api/v1/auth/me", headers={"X-API-Key": created.json()["key"]}
        )
        assert used.status_code == 200, used.text
    forged = await memory_client.get("/api/v1/auth/me", headers={"X-API-Key": "hx_nope_nope"})
    assert forged.status_code == 401
    after = await scrape(memory_client)
    assert moved(before, after, "hexahub_api_key_uses_total", outcome="accepted") == 2
    assert moved(before, after, "hexahub_api_key_uses_total", outcome="refused") == 1


async def test_http_metrics_label_route_templates_and_exact_status_codes(
    app_factory: AppFactory,
) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=True,
        rate_limit_requests_per_client="9/60",
    )
    before = await scrape(client)
    user_id = str(uuid.uuid4())
    assert (await client.get(f"/api/v1/users/{user_id}")).status_code == 401
    assert (await client.get("/health")).status_code == 200
    assert (await client.get(f"/no/such/{user_id}")).status_code == 404
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/static/docs/swagger-ui.css")).status_code == 200
    # The general budget (health, metrics and docs are exempt) runs out on the root.
    statuses = [(await client.get("/")).status_code for _ in range(9)]
    assert statuses[-1] == 429, statuses

    after = await scrape(client)
    requests = "hexahub_http_requests_total"
    users = {"method": "GET", "route": "/api/v1/users/{user_id}"}
    # 401, 404 and 429 are different stories: each code is its own series.
    assert moved(before, after, requests, **users, code="401") == 1
    assert moved(before, after, requests, method="GET", route="/health", code="200") == 1
    assert moved(before, after, requests, method="GET", route="unmatched", code="404") == 1
    refused = statuses.count(429)
    assert moved(before, after, requests, method="GET", route="unmatched", code="429") == refused
    assert moved(before, after, requests, method="GET", route="/", code="200") == 9 - refused
    # The documentation is a route like any other, not an unmatched request.
    for route in ("/openapi.json", "/docs", "/static/docs/{path}"):
        assert moved(before, after, requests, method="GET", route=route, code="200") == 1, route
    # The scrape before the traffic was itself counted once it finished.
    assert moved(before, after, requests, method="GET", route="/metrics", code="200") >= 1
    assert not any("status_class" in dict(labels) for _, labels in after)
    # Never the raw path: no label anywhere carries the id.
    assert not any(user_id in v for _, labels in after for _, v in labels)

    duration = "hexahub_http_request_duration_seconds"
    assert moved(before, after, f"{duration}_count", **users) == 1
    buckets = {dict(labels)["le"] for name, labels in after if name == f"{duration}_bucket"}
    assert {"0.001", "10.0", "+Inf"} <= buckets
    assert moved(before, after, "hexahub_http_request_size_bytes_count", **users) == 1
    assert moved(before, after, "hexahub_http_response_size_bytes_count", **users) == 1
    assert moved(before, after, "hexahub_http_response_size_bytes_sum", **users) > 0
    # The scrape that reports it is the one request in flight.
    assert value(after, "hexahub_http_requests_in_flight") >= 1
    # Prometheus conventions: no `_created` companion series in the text format.
    assert not [name for name, _ in after if name.endswith("_created")]


async def test_metrics_is_not_in_the_schema_nor_rate_limited(
    app_factory: AppFactory,
) -> None:
    client = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=True,
        rate_limit_requests_per_client="3/60",
    )
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
    assert {(await client.get("/metrics")).status_code for _ in range(6)} == {200}
    # The budget is real: the same client is refused elsewhere.
    statuses = [(await client.get("/")).status_code for _ in range(6)]
    assert 429 in statuses
