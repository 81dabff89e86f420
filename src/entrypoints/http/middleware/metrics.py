"""HTTP metrics for Prometheus, as a pure ASGI middleware (no BaseHTTPMiddleware: it
would buffer streamed bodies and cost a task per request).

`route` is the template of the route the router matched (`/api/v1/users/{user_id}`),
read from `scope["route"]` after the inner app ran; the raw path would give every user
id its own series. Routes FastAPI does not set there (`/openapi.json`, the docs' static
assets) are found by their endpoint. Requests no route matched (404s, and anything
answered before routing, such as 429s from the throttle or refused hosts) share
`route="unmatched"`. `code` is the exact status (401, 404 and 429 are different
stories); a class is a regular expression away (`code=~"5.."`).
Starlette's `path_format` of a route in a router included into another router carries
only the inner prefix under FastAPI 0.165; HexaHub includes every router into the app
directly, so the templates are complete.

Multiple workers (`hexahub serve --workers N`): prometheus_client keeps each worker's
values in memory, so a scrape would see one random worker. Set the environment variable
`PROMETHEUS_MULTIPROC_DIR` to an empty, writable directory before the workers start (it
must be set before `prometheus_client` is imported, and emptied at each start, since
stale files would be summed in); each worker then writes its values there and `/metrics`
merges them all. The in-flight gauge uses `multiprocess_mode="livesum"`: the sum over
the workers that are alive.
"""

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Module-level: the Prometheus registry is process-global (see the adapters' counters).
REQUESTS = Counter(
    "hexahub_http_requests",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "code"],
)
# 1 ms to 10 s, roughly doubling: resolves a cached read as well as a slow argon2 hash.
DURATION = Histogram(
    "hexahub_http_request_duration_seconds",
    "Time from the request arriving to the response finishing.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge(
    "hexahub_http_requests_in_flight",
    "Requests being handled now.",
    multiprocess_mode="livesum",
)
_SIZE_BUCKETS = (64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
REQUEST_SIZE = Histogram(
    "hexahub_http_request_size_bytes",
    "Request body size.",
    ["method", "route"],
    buckets=_SIZE_BUCKETS,
)
RESPONSE_SIZE = Histogram(
    "hexahub_http_response_size_bytes",
    "Response body size.",
    ["method", "route"],
    buckets=_SIZE_BUCKETS,
)

UNMATCHED = "unmatched"
# Bounded: an arbitrary method string from the client must not mint new series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _Series:
    """The labelled children of one (method, route, status code): `labels()` validates
    and locks on every call, which cost more than the observations themselves on the
    cheapest routes, so each combination is looked up once and kept."""

    __slots__ = ("duration", "request_size", "requests", "response_size")

    def __init__(self, method: str, route: str, code: int) -> None:
        self.requests = REQUESTS.labels(method, route, str(code))
        self.duration = DURATION.labels(method, route)
        self.request_size = REQUEST_SIZE.labels(method, route)
        self.response_size = RESPONSE_SIZE.labels(method, route)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Bounded: methods are a fixed set, routes the app's templates, codes the few the
        # app answers with.
        self._series: dict[tuple[str, str, int], _Series] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app raises before answering, the server sends a 500
        received = sent = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            IN_FLIGHT.dec()
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_template(scope)
            key = (method, route, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series(method, route, status)
            series.requests.inc()
            series.duration.observe(time.perf_counter() - start)
            series.request_size.observe(received)
            series.response_size.observe(sent)


def route_template(scope: Scope) -> str:
    """The matched route's template, or `unmatched`. FastAPI's router sets
    `scope["route"]` for its own routes, on a full match and on a partial one (a 405);
    a plain Starlette route or mount it matched leaves only its `endpoint`."""
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str) and template:
        return template
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        for route in getattr(scope.get("app"), "routes", ()):
            if endpoint is getattr(route, "endpoint", None) or endpoint is getattr(
                route, "app", None
            ):
                return str(route.path_format)
    return UNMATCHED
