"""The general per-client request budget, before any route runs."""

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from application.errors import RateLimitedError
from application.throttle import Throttle
from entrypoints.http.errors import envelope, rate_limit_headers

# Probes and docs stay reachable however busy a client is: an orchestrator polling
# /health must never be told to back off.
EXEMPT = ("/health", "/metrics", "/docs", "/redoc", "/static/", "/openapi.json")


class ThrottleMiddleware:
    def __init__(self, app: ASGIApp, *, throttle: Callable[[], Throttle]) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        try:
            await self.throttle().request()
        except RateLimitedError as error:
            response = envelope(
                scope.get("request_id"),
                429,
                "rate_limited",
                error.message,
                headers=rate_limit_headers(error),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
