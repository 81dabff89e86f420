"""The request span, as a pure ASGI middleware (outermost, so the access line and every
refusal fall inside it).

W3C Trace Context both ways: an incoming `traceparent` makes the request span a child of
the caller's, and every response carries the request span's own `traceparent`, so a
caller can find the trace. The span is named by method and route template
(`GET /api/v1/users/{user_id}`), never the raw path; unmatched requests get the method
alone. The path and query string are not recorded: the route says what was called, and
query strings may carry tokens that must never leave the service.
"""

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.middleware.metrics import UNMATCHED, route_template

_W3C = TraceContextTextMapPropagator()
# Semantic conventions: other methods are reported as _OTHER and the span named HTTP.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class TracingMiddleware:
    def __init__(self, app: ASGIApp, *, tracer_provider: trace.TracerProvider) -> None:
        self.app = app
        self.tracer = tracer_provider.get_tracer("hexahub.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in (b"traceparent", b"tracestate")
        }
        method = scope["method"] if scope["method"] in _METHODS else "_OTHER"
        name = "HTTP" if method == "_OTHER" else method
        with self.tracer.start_as_current_span(
            name,
            context=_W3C.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.scheme": scope["scheme"]},
            record_exception=False,  # messages can echo request data
            set_status_on_exception=False,
        ) as span:
            outgoing: dict[str, str] = {}
            _W3C.inject(outgoing, context=trace.set_span_in_context(span))

            async def send_with_traceparent(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = message["status"]
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                        span.set_attribute("error.type", str(status))
                    headers = MutableHeaders(scope=message)
                    for key, value in outgoing.items():
                        headers[key] = value
                await send(message)

            try:
                await self.app(scope, receive, send_with_traceparent)
            except Exception as error:
                span.set_status(StatusCode.ERROR)
                span.set_attribute("error.type", type(error).__qualname__)
                raise
            finally:
                route = route_template(scope)
                if route != UNMATCHED:
                    span.update_name(f"{name} {route}")
                    span.set_attribute("http.route", route)
