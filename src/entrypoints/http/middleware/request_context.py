"""Request id in and out, bound to every log line, and one access line per request.

An incoming W3C `traceparent` puts the caller's trace id on every line of the request,
with or without a trace exporter, so logs correlate with the caller's trace. It is read
with one regular expression, not through the OpenTelemetry SDK: this runs for every
request. (With tracing on, the request span continues that trace, and its ids win.)

Pure ASGI (not BaseHTTPMiddleware): no extra task or body buffering per request.
"""

import re
import time
import uuid
from collections.abc import Sequence

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.context.request_context import bound_request
from application.ports.request_context import RequestMeta
from entrypoints.http.client_address import IPNetwork, client_address

log = structlog.get_logger("hexahub.access")

# Echo only ids that are safe to log and to put back in a header.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# W3C Trace Context §3.2: version-trace_id-parent_id-flags in lower-case hex. A later
# version may append fields after a dash; version ff is invalid, and so are all-zero ids.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?")
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a valid `traceparent` header, else None (the spec: an invalid
    header is ignored, as if absent)."""
    if traceparent is None:
        return None
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return None
    version, trace_id, parent_id, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return None
    return trace_id


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[IPNetwork] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = user_agent = traceparent = None
        forwarded: list[str] = []
        for key, value in scope["headers"]:  # one pass: this runs for every request
            if key == b"x-request-id":
                incoming = incoming or value.decode("latin-1")
            elif key == b"user-agent":
                user_agent = user_agent or value.decode("latin-1")
            elif key == b"traceparent":
                traceparent = traceparent or value.decode("latin-1")
            elif key == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
        request_id = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope["request_id"] = request_id
        peer = scope.get("client")
        scope["client_ip"] = client_address(
            peer[0] if peer else None, ",".join(forwarded) or None, self.trusted_proxies
        )
        meta = RequestMeta(
            ip=scope["client_ip"],
            user_agent=user_agent[:512] if user_agent else None,
            request_id=request_id,
        )
        structlog.contextvars.clear_contextvars()
        trace_id = trace_id_of(traceparent)
        if trace_id is None:
            structlog.contextvars.bind_contextvars(request_id=request_id)
        else:
            structlog.contextvars.bind_contextvars(request_id=request_id, trace_id=trace_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            with bound_request(meta):
                await self.app(scope, receive, send_with_id)
        finally:
            # The path only: query strings may carry tokens that must never be logged.
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=scope["client_ip"],
            )
            structlog.contextvars.clear_contextvars()
