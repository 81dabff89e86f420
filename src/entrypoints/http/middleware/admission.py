"""Fair admission: at most `limit` requests of this process are worked on at once; the
others wait their turn, in arrival order, before any work is done for them.

Why: the event loop runs every ready step in turn, so each step of a request waits for a
step of every other request in flight. A long request (a login: a password hash and some
twenty statements) then takes seconds under load and logins starve, while the short ones
queue at every await. With a bound, requests already begun finish first: the same
throughput, with the waiting done once, up front, where it is fair.

A request holds its place until its response starts, so a stream (SSE) does not keep
one; WebSockets, probes and the metrics scrape never queue.
"""

import asyncio
import contextlib
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT = ("/health", "/metrics")


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self._free = limit
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        await self._enter()
        inside = True

        def leave() -> None:
            nonlocal inside
            if inside:
                inside = False
                self._leave()

        async def send_and_leave(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()
            await send(message)

        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            leave()

    async def _enter(self) -> None:
        if self._free:  # places are free only while nobody waits
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # handed a place just as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # already passed over by `_leave`
                    self._waiting.remove(turn)
            raise

    def _leave(self) -> None:
        # The place goes straight to the longest waiting request: none can overtake it.
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1
