"""What an operator sees in a trace: one request span, the use cases under it, and the
SQL statements and Redis commands under those; W3C `traceparent` in and out; log lines
that name their span; and no caller-supplied value anywhere in a span.

Spans go to an in-memory exporter through `use_tracer_provider`, never the process-wide
OpenTelemetry global, so no other test is traced.
"""

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from entrypoints.logging import configure_logging
from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, new_identity, register

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}


def named(finished: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


def one(finished: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = named(finished, name)
    assert len(found) == 1, [span.name for span in finished]
    return found[0]


def children(finished: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [span for span in finished if is_child(span, parent)]


def is_child(span: ReadableSpan, parent: ReadableSpan) -> bool:
    assert parent.context is not None
    return span.parent is not None and span.parent.span_id == parent.context.span_id


def attribute_text(finished: Sequence[ReadableSpan]) -> str:
    return " ".join(f"{s.name} {dict(s.attributes or {})} {s.events}" for s in finished)


async def test_request_use_case_and_sql_spans_nest_without_recording_input(
    spans: InMemorySpanExporter, app_factory: AppFactory, sqlite_url: str
) -> None:
    client = await app_factory(database_url=sqlite_url)
    identity = new_identity("traced")
    assert (await client.post("/api/v1/auth/register", json=identity)).status_code == 201
    wrong = {"username": identity["username"], "password": "wrong-password-1"}
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401

    finished = spans.get_finished_spans()
    request = one(finished, "POST /api/v1/auth/register")
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 201
    use_case = one(finished, "use_case RegisterUser")
    assert is_child(use_case, request)
    inserts = [s for s in children(finished, use_case) if s.name == "INSERT"]
    assert inserts, [s.name for s in children(finished, use_case)]
    for sql in inserts:
        assert sql.kind is SpanKind.CLIENT
        assert sql.attributes is not None
        assert sql.attributes["db.system.name"] == "sqlite"
        assert str(sql.attributes["db.query.text"]).startswith("INSERT")
    assert request.context is not None
    assert {s.context.trace_id for s in (use_case, *inserts) if s.context} == {
        request.context.trace_id
    }

    # A refused log-in: the use case span shows the failure by type, nothing more.
    failed = one(finished, "use_case LogIn")
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "InvalidCredentialsError"
    assert failed.events == ()

    recorded = attribute_text(finished)
    for value in (identity["email"], identity["username"], PASSWORD, "wrong-password-1"):
        assert value not in recorded
    assert "$argon2" not in recorded


async def test_postgres_statements_and_redis_commands_nest_under_use_cases(
    spans: InMemorySpanExporter,
    app_factory: AppFactory,
    postgres_clean_url: str,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    client = await app_factory(
        database_url=postgres_clean_url, redis_url=redis_server_url, redis_key_prefix=redis_prefix
    )
    user = await register(client)
    tokens = await login(client, user["username"])
    spans.clear()
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204

    finished = spans.get_finished_spans()
    me = one(finished, "GET /api/v1/auth/me")
    authenticate = named(finished, "use_case Authenticate")
    assert any(is_child(span, me) for span in authenticate)
    redis_calls = [
        s for s in finished if s.attributes and s.attributes.get("db.system.name") == "redis"
    ]
    # The revocation check of every authenticated request asks Redis.
    assert any(is_child(call, a) for call in redis_calls for a in authenticate)

    logout = one(finished, "POST /api/v1/auth/logout")
    log_out = one(finished, "use_case LogOut")
    assert is_child(log_out, logout)
    statements = [s for s in children(finished, log_out) if s.kind is SpanKind.CLIENT]
    assert any(
        s.attributes is not None and s.attributes.get("db.system.name") == "postgresql"
        for s in statements
    ), [s.name for s in statements]

    # Keys carry the prefix and session ids; values carry data: neither is recorded.
    recorded = attribute_text(finished)
    assert redis_prefix not in recorded
    assert tokens["access_token"] not in recorded
    assert user["email"] not in recorded


async def test_traceparent_in_and_out(
    spans: InMemorySpanExporter, memory_client_factory: AppFactory
) -> None:
    client = await memory_client_factory()
    joined = await client.get("/health", headers=CALLER)
    fresh = await client.get("/health")

    requests = named(spans.get_finished_spans(), "GET /health")
    assert len(requests) == 2
    for response, span in zip((joined, fresh), requests, strict=True):
        assert span.context is not None
        version, trace_id, span_id, flags = response.headers["traceparent"].split("-")
        assert version == "00"
        assert int(flags, 16) & 1  # sampled
        assert trace_id == format_trace_id(span.context.trace_id)
        assert span_id == format_span_id(span.context.span_id)
    # The caller's trace goes on: its span is the parent of ours.
    first = requests[0]
    assert first.parent is not None
    assert format_trace_id(first.parent.trace_id) == CALLER_TRACE
    assert format_span_id(first.parent.span_id) == CALLER_SPAN
    assert requests[1].parent is None


async def test_request_spans_are_named_by_route_template_without_path_or_query(
    spans: InMemorySpanExporter, memory_client_factory: AppFactory
) -> None:
    client = await memory_client_factory()
    user_id = "0190f5b0-7c1d-7000-8000-000000000042"
    secret = "query-secret-value"
    await client.get(f"/api/v1/users/{user_id}?access_token={secret}")
    await client.get(f"/no/such/{user_id}")

    finished = spans.get_finished_spans()
    matched = one(finished, "GET /api/v1/users/{user_id}")
    assert matched.attributes is not None
    assert matched.attributes["http.route"] == "/api/v1/users/{user_id}"
    assert matched.attributes["http.response.status_code"] == 401
    unmatched = one(finished, "GET")
    assert unmatched.attributes is not None
    assert unmatched.attributes["http.response.status_code"] == 404
    recorded = attribute_text(finished)
    assert user_id not in recorded
    assert secret not in recorded


@pytest.fixture
def logging_restored(app_factory: AppFactory) -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the other tests.
    Needs `app_factory` so that it is undone before the apps stop: their last lines then
    go to the restored handlers, not to a closed capture."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    access_disabled = logging.getLogger("uvicorn.access").disabled
    config = structlog.get_config()
    yield
    structlog.configure(**config)
    root.handlers[:], root.level = handlers, level
    logging.getLogger("uvicorn.access").disabled = access_disabled


def access_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


@pytest.mark.usefixtures("logging_restored")
async def test_log_lines_carry_the_ids_of_the_request_span(
    spans: InMemorySpanExporter,
    memory_client_factory: AppFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = await memory_client_factory()
    configure_logging("INFO", "json")  # here: capsys captures only once the test runs
    capsys.readouterr()
    await client.get("/health", headers=CALLER)

    (line,) = access_lines(capsys.readouterr().out)
    request = one(spans.get_finished_spans(), "GET /health")
    assert request.context is not None
    assert line["trace_id"] == format_trace_id(request.context.trace_id) == CALLER_TRACE
    assert line["span_id"] == format_span_id(request.context.span_id)
    assert line["request_id"]


@pytest.mark.usefixtures("logging_restored")
async def test_with_tracing_off_nothing_is_traced_or_echoed(
    memory_client_factory: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await memory_client_factory()
    configure_logging("INFO", "json")  # here: capsys captures only once the test runs
    capsys.readouterr()
    response = await client.get("/health", headers=CALLER)

    assert "traceparent" not in response.headers
    (line,) = access_lines(capsys.readouterr().out)
    assert line["request_id"]
    # The caller's trace id still correlates the logs; no span of ours, so no span id.
    assert line["trace_id"] == CALLER_TRACE
    assert "span_id" not in line
    assert "span_id" not in line


@pytest.fixture
def memory_client_factory(app_factory: AppFactory) -> AppFactory:
    """Built inside the test, after `spans` has chosen the provider."""

    async def build(**overrides: Any) -> Any:
        return await app_factory(database_url="memory://", _fake_hasher=True, **overrides)

    return build
