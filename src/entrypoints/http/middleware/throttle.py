"""The general per-client request budget, before any route runs."""

from collections.abc import Callable

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from application.errors import RateLimitedError, ServiceUnavailableError
from application.identity.throttle import Throttle
from entrypoints.http.errors import envelope, rate_limit_headers

log = structlog.get_logger()

# Probes and docs stay reachable however busy a client is: an orchestrator polling
# /health must never be told to back off.
EXEMPT = ("/health", "/metrics", "/docs", "/redoc", "/static/", "/openapi.json")


class ThrottleMiddleware:
    """429 over budget. With Redis the limiter falls back to in-process budgets when
    Redis cannot answer (`FallbackRateLimiter`), so a Redis outage still gives 429s and
    no error reaches here. A limiter without a fallback that cannot answer gets 503 with
    the error's Retry-After, as any route does for an outage: failing closed keeps the
    budget meaningful, and the client learns it may retry (RFC 9110 §15.6.4)."""

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
        except ServiceUnavailableError as error:
            log.warning("dependency_unavailable", error=error.code, reason=error.message)
            response = envelope(
                scope.get("request_id"),
                503,
                error.code,
                error.message,
                headers={"Retry-After": str(error.retry_after)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
