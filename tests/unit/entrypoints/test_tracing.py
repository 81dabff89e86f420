"""Tracing set-up as an operator meets it: off (and free) without an OTLP endpoint, OTLP
export with the service's name and version with one; and spans that never hold what a
caller sent (use-case arguments, SQL parameters)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from entrypoints.tracing import (
    build_tracer_provider,
    configure_tracing,
    trace_engine,
    traced_use_case,
    tracer_provider,
)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*ENDPOINT_VARIABLES, "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return monkeypatch


class RegisterThing:
    def __init__(self) -> None:
        self.label = "registers things"

    async def execute(self, command: dict[str, str]) -> str:
        if command["password"] == "wrong":
            raise PermissionError(f"refused {command['password']}")
        return "registered"


def test_without_an_endpoint_nothing_is_installed(clean_environment: pytest.MonkeyPatch) -> None:
    assert build_tracer_provider("1.0.0") is None
    assert configure_tracing("1.0.0") is None
    assert tracer_provider() is None
    # The OpenTelemetry global stays the API's no-op proxy: no SDK, no processor.
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    use_case = RegisterThing()
    assert traced_use_case(use_case) is use_case


def test_the_sdk_can_be_disabled_even_with_an_endpoint(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    clean_environment.setenv("OTEL_SDK_DISABLED", "true")
    assert build_tracer_provider("1.0.0") is None


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """An OTLP/HTTP receiver on the loopback interface."""
    received: list[tuple[str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("service_variable", "expected_name"), [(None, "hexahub"), ("edge-identity", "edge-identity")]
)
def test_with_an_endpoint_spans_are_exported_over_otlp_http(
    clean_environment: pytest.MonkeyPatch,
    collector: tuple[str, list[tuple[str, bytes]]],
    service_variable: str | None,
    expected_name: str,
) -> None:
    endpoint, received = collector
    clean_environment.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    if service_variable:
        clean_environment.setenv("OTEL_SERVICE_NAME", service_variable)

    provider = build_tracer_provider("1.2.3")
    assert provider is not None
    with provider.get_tracer("probe").start_as_current_span("probe span"):
        pass
    assert provider.force_flush()
    provider.shutdown()

    assert [path for path, _ in received] == ["/v1/traces"]
    export = ExportTraceServiceRequest.FromString(received[0][1])
    (resource_spans,) = export.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == expected_name
    assert resource["service.version"] == "1.2.3"
    names = [span.name for scope in resource_spans.scope_spans for span in scope.spans]
    assert names == ["probe span"]


async def test_use_case_spans_record_neither_arguments_nor_messages(
    spans: InMemorySpanExporter,
) -> None:
    use_case = traced_use_case(RegisterThing())
    assert use_case.label == "registers things"
    assert await use_case.execute({"password": "s3cret-value"}) == "registered"
    with pytest.raises(PermissionError):
        await use_case.execute({"password": "wrong"})

    succeeded, failed = spans.get_finished_spans()
    assert succeeded.name == failed.name == "use_case RegisterThing"
    assert succeeded.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {}) == {"error.type": "PermissionError"}
    assert failed.events == ()
    assert dict(succeeded.attributes or {}) == {}


async def test_sql_spans_hold_statements_without_parameters(
    spans: InMemorySpanExporter,
) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    trace_engine(engine)
    email = "ada@example.com"
    tracer = trace.get_tracer("test", tracer_provider=tracer_provider())
    try:
        async with engine.connect() as connection:
            # Outside any trace (background work): no root span per statement.
            await connection.execute(text("SELECT 1"))
            with tracer.start_as_current_span("request"):
                await connection.execute(text("SELECT :email"), {"email": email})
                with pytest.raises(OperationalError):
                    await connection.execute(
                        text("SELECT * FROM missing WHERE email = :e"), {"e": email}
                    )
    finally:
        await engine.dispose()

    selected, failed, request = spans.get_finished_spans()
    assert request.name == "request"
    assert selected.name == failed.name == "SELECT"
    assert selected.kind is SpanKind.CLIENT
    assert selected.attributes is not None
    assert selected.attributes["db.system.name"] == "sqlite"
    assert selected.attributes["db.query.text"] == "SELECT ?"
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "OperationalError"
    for span in (selected, failed):
        assert email not in str(dict(span.attributes or {}))
