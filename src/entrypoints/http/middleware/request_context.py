"""Request id in and out, bound to every log line, and one access line per request.

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


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[IPNetwork] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope["request_id"] = request_id
        peer = scope.get("client")
        forwarded = ",".join(
            v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"
        )
        scope["client_ip"] = client_address(
            peer[0] if peer else None, forwarded or None, self.trusted_proxies
        )
        user_agent = _header(scope, b"user-agent")
        meta = RequestMeta(
            ip=scope["client_ip"],
            user_agent=user_agent[:512] if user_agent else None,
            request_id=request_id,
        )
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
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


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None
