"""structlog set-up: one pipeline for our logs and the standard library's (uvicorn's,
Alembic's, warnings), written to standard output, where container runtimes and process
managers collect a service's log stream (twelve-factor: logs are an event stream).

Request ids are bound through contextvars, so every line of a request carries one, and
the caller's `trace_id` when its request carried a W3C `traceparent`; while tracing is on,
the `trace_id` and `span_id` of the current span. A
last-line-of-defence processor masks values under names that look secret.
"""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_SECRET_MARKERS = ("password", "secret", "token", "authorization", "hash", "api_key", "cookie")


def _mask_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(marker in key.lower() for marker in _SECRET_MARKERS):
            event[key] = "***"
    return event


def _add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # With tracing off the current span is the no-op one, whose context is invalid.
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = trace.format_trace_id(context.trace_id)
        event["span_id"] = trace.format_span_id(context.span_id)
    return event


def configure_logging(level: str, fmt: str) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
    ]
    # Tracebacks without local variables, in both formats: locals hold password hashes,
    # bearer headers and request bodies. ConsoleRenderer's default with `rich` installed
    # shows them, so it gets the plain formatter; format_exc_info (below) is plain too, and
    # structlog's dict_tracebacks, which also shows locals by default, is not used.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python's warnings (deprecations from a library, say) join the same stream.
    logging.captureWarnings(True)
    # Our access line replaces uvicorn's, which would log raw query strings.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
