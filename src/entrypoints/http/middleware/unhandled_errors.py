"""The last net: an unexpected exception becomes a 500 in the envelope, never a trace.

It sits inside the request context (so the 500 carries the request id) and inside CORS
(so a browser can read it), which Starlette's outermost error handler could not.
"""

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.errors import envelope

log = structlog.get_logger()


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            log.exception("unhandled_error", error_type=type(error).__name__)
            if started:
                raise
            response = envelope(
                scope.get("request_id"), 500, "internal_error", "internal server error"
            )
            await response(scope, receive, send)
