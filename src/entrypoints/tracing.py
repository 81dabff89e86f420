"""Traces: OpenTelemetry spans for each request, use case, SQL statement and Redis command.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.
Off means nothing is instrumented at all: no middleware, no engine listeners, no wrapped
use cases, so the cost is nil. On, an SDK provider exports over OTLP/HTTP in batches and
honours the standard variables (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`, ...).

No span records a value that came from a caller: use-case arguments (passwords), SQL
parameters (emails, hashes) and Redis arguments (keys name sessions) are all left out.
SQL and Redis spans are made only inside a trace: background work (the mail dispatcher,
key refresh, metric sampling) would otherwise open a new root trace every few seconds.

The OpenTelemetry global provider can be set only once per process, so HexaHub reads the
provider it traces to from `tracer_provider()`; tests swap in one with an in-memory
exporter through `use_tracer_provider` and leave the global alone.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

DEFAULT_SERVICE_NAME = "hexahub"
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: trace.TracerProvider | None = None
_tracer: trace.Tracer | None = None


def tracer_provider() -> trace.TracerProvider | None:
    """The provider HexaHub traces to, or None while tracing is off."""
    return _provider


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Trace to `provider` from now on (None: off). Apps, engines and Redis clients
    built afterwards are instrumented; those built before are not."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer("hexahub") if provider is not None else None


def build_tracer_provider(service_version: str) -> TracerProvider | None:
    """An SDK provider exporting over OTLP/HTTP, configured from the standard
    environment variables; None when no OTLP endpoint is set (or the SDK is disabled)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if not any(os.environ.get(name, "").strip() for name in _ENDPOINT_VARIABLES):
        return None
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; our default
    # name applies only where neither names the service.
    resource = Resource.create({SERVICE_VERSION: service_version})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)  # sampler from OTEL_TRACES_SAMPLER
    # Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_*.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def configure_tracing(service_version: str) -> trace.TracerProvider | None:
    """Once per process (every worker calls it from `create_app`): build the provider
    from the environment, make it the OpenTelemetry global and HexaHub's own."""
    if _provider is None:
        provider = build_tracer_provider(service_version)
        if provider is not None:
            trace.set_tracer_provider(provider)
            use_tracer_provider(provider)
    return _provider


# --- use cases ----------------------------------------------------------------------------


class _TracedUseCase:
    """Runs the wrapped use case's `execute` in a span named after its class. Arguments
    are not recorded (commands hold passwords), nor exception messages (they can echo
    input): a failure shows as `error.type`."""

    def __init__(self, inner: Any, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer
        self._name = f"use_case {type(inner).__name__}"

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        with self._tracer.start_as_current_span(
            self._name, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                return await self._inner.execute(*args, **kwargs)
            except Exception as error:
                span.set_status(StatusCode.ERROR)
                span.set_attribute("error.type", type(error).__qualname__)
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def traced_use_case(use_case: T) -> T:
    """`use_case` with its `execute` in a span; itself while tracing is off."""
    if _tracer is None:
        return use_case
    # Duck-typed: callers only ever call `execute`; anything else passes through.
    return cast(T, _TracedUseCase(use_case, _tracer))


# --- SQL ----------------------------------------------------------------------------------

_SPAN_KEY = "_hexahub_span"


def trace_engine(engine: AsyncEngine) -> None:
    """A client span per SQL statement, from SQLAlchemy's cursor events (the contrib
    instrumentation refuses SQLAlchemy 2.1 and patches every engine in the process).
    `db.query.text` is the statement with its placeholders; parameters are never read.
    Other listeners on the same events (metrics) are unaffected."""
    if _provider is None:
        return
    tracer = _provider.get_tracer("hexahub.sql")
    url = engine.url
    common: dict[str, str | int] = {
        "db.system.name": "postgresql" if url.get_backend_name() == "postgresql" else "sqlite",
    }
    if url.database:
        common["db.namespace"] = url.database
    if url.host:
        common["server.address"] = url.host
    if url.port:
        common["server.port"] = url.port

    def before(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or not _in_trace():
            return
        words = statement.split(None, 1)
        operation = words[0].upper() if words else "SQL"
        span = tracer.start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={**common, "db.operation.name": operation, "db.query.text": statement},
        )
        setattr(context, _SPAN_KEY, span)

    def after(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            span.end()
            setattr(context, _SPAN_KEY, None)

    def failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            error = exception_context.original_exception
            span.set_status(StatusCode.ERROR)
            span.set_attribute("error.type", type(error).__qualname__)
            span.end()
            setattr(context, _SPAN_KEY, None)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)


# --- Redis ------------------------------------------------------------------------------


def trace_redis(client: Any) -> None:
    """A client span per Redis command, and one per pipeline, named by the command
    (`EXISTS`, `EVALSHA`, `PIPELINE`). No argument is recorded: keys hold session ids,
    values hold data.

    Wraps the instance's `execute_command` and `pipeline` as they stand, so it must run
    after `instrument_redis` (metrics), which calls the class's methods and would skip a
    wrapper applied before it. The contrib instrumentation is not used for that reason:
    applied second it cannot see the client, and its spans lose their attributes.
    """
    if _provider is None or client is None:
        return
    tracer = _provider.get_tracer("hexahub.redis")
    connection: dict[str, Any] = client.connection_pool.connection_kwargs
    common: dict[str, str | int] = {
        "db.system.name": "redis",
        "db.namespace": str(connection.get("db") or 0),
    }
    if connection.get("host"):
        common["server.address"] = connection["host"]
        common["server.port"] = connection.get("port", 6379)
    execute_command = client.execute_command
    pipeline = client.pipeline

    async def traced_command(*args: Any, **options: Any) -> Any:
        if not _in_trace():
            return await execute_command(*args, **options)
        name = str(args[0]) if args else "redis"
        with _client_span(tracer, name, common):
            return await execute_command(*args, **options)

    def traced_pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        async def traced_execute(*a: Any, **kw: Any) -> Any:
            if not _in_trace():
                return await execute(*a, **kw)
            size = len(getattr(pipe, "command_stack", ()))
            with _client_span(tracer, "PIPELINE", {**common, "db.operation.batch.size": size}):
                return await execute(*a, **kw)

        pipe.execute = traced_execute
        return pipe

    client.execute_command = traced_command
    client.pipeline = traced_pipeline


def _in_trace() -> bool:
    return trace.get_current_span().get_span_context().is_valid


@contextmanager
def _client_span(
    tracer: trace.Tracer, operation: str, attributes: dict[str, str | int]
) -> Iterator[None]:
    with tracer.start_as_current_span(
        operation,
        kind=SpanKind.CLIENT,
        attributes={**attributes, "db.operation.name": operation},
        record_exception=False,  # a server error can quote the command's arguments
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except Exception as error:
            span.set_status(StatusCode.ERROR)
            span.set_attribute("error.type", type(error).__qualname__)
            raise
