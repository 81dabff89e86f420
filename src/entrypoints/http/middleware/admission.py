"""Fair admission: at most `limit` requests of this process are worked on at once; the
others wait their turn, in arrival order, before any work is done for them.

Why: the event loop runs every ready step in turn, so each step of a request waits for a
step of every other request in flight. A long request (a login: a password hash and some
twenty statements) then takes seconds under load and logins starve, while the short ones
queue at every await. With a bound, requests already begun finish first: the same
throughput, with the waiting done once, up front, where it is fair.

- A request's body is read before it takes a place, so a slow sender holds none.
- A request holds its place until its response starts, so a stream (SSE) does not keep
  one, and gives it up while it waits on work done elsewhere (`stepped_aside`: a hash in
  the thread pool); it then comes back ahead of requests not yet begun.
- A request that cannot get a place within `wait_seconds` is answered 503 with
  Retry-After: overload shows as quick refusals, not ever-growing delay.
- At most `starts_per_turn` requests start in one turn of the event loop; the others
  wait for the next turn. Places alone bound only requests that wait on something, and a
  cached request never does: a turn then started every request that had arrived (64 with
  64 connections), and each step of a login (a statement, the hash coming back) waited
  out that whole turn. A login beside 64 connections of `/me` took 0.4-0.7 s. With 32
  starts a turn, 0.2 s, and `/me`'s p99 stayed within 50 ms (bench/perf.py's mixed
  group); `/me` alone lost 4-5 % to the waiting.
- WebSockets, probes and the metrics scrape never queue.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextvars import ContextVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.ports.password_hasher import PasswordHasher
from entrypoints.http.errors import HTTP_CODES, envelope

EXEMPT = ("/health", "/metrics")
RETRY_AFTER_SECONDS = 1


class AdmissionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        wait_seconds: float = 5.0,
        starts_per_turn: int | None = None,
    ) -> None:
        self.app = app
        self._wait_seconds = wait_seconds
        self._free = limit
        self._starts_per_turn = starts_per_turn
        self._started = 0  # in this turn of the loop
        self._next_turn_scheduled = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        # New arrivals' deadlines in arrival order, watched by one timer for the whole
        # queue (a timer per request cost more than the rest of the bookkeeping).
        self._deadlines: dict[asyncio.Future[None], float] = {}
        self._watch: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        if _has_body(scope):
            try:
                receive = await _read_body(receive)
            except HTTPException as refused:  # over the body limit, counted outside
                response = envelope(
                    scope.get("request_id"),
                    refused.status_code,
                    HTTP_CODES.get(refused.status_code, "bad_request"),
                    refused.detail,
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        place = _Place(self)
        try:
            await place.take(deadline=asyncio.get_running_loop().time() + self._wait_seconds)
        except TimeoutError:
            response = envelope(
                scope.get("request_id"),
                503,
                "service_unavailable",
                "the server is busy; try again shortly",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return

        async def send_and_leave(message: Message) -> None:
            if message["type"] == "http.response.start":
                place.finish()
            await send(message)

        token = _current.set(place)
        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            _current.reset(token)
            place.finish()

    async def _enter(self, *, first: bool = False, deadline: float | None = None) -> None:
        # A request coming back (`first`) takes a free place at once. A new one only
        # if nobody waits (places are free while others wait only when this turn's
        # starts are spent) and this turn may start another.
        if self._free and (first or (not self._waiting and self._may_start())):
            self._free -= 1
            if not first:
                self._count_start()
            return
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        if first:
            self._waiting.appendleft(turn)
        else:
            self._waiting.append(turn)
        if deadline is not None:
            self._deadlines[turn] = deadline
            if self._watch is None:
                self._watch = loop.call_at(deadline, self._expire)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self._leave()  # handed a place just as it gave up: pass it on
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):  # already passed over by `_leave`
                    self._waiting.remove(turn)
            raise
        finally:
            self._deadlines.pop(turn, None)
            if not self._deadlines and self._watch is not None:
                self._watch.cancel()  # nothing left to watch
                self._watch = None

    def _expire(self) -> None:
        """Refuse the arrivals whose deadline passed (the oldest first), then watch the
        next deadline."""
        self._watch = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for turn, deadline in list(self._deadlines.items()):
            if deadline > now:
                self._watch = loop.call_at(deadline, self._expire)
                return
            del self._deadlines[turn]
            if not turn.done():
                turn.set_exception(TimeoutError())

    def _leave(self) -> None:
        # The place goes straight to the longest waiting request, none can overtake it;
        # when this turn's starts are spent, at the start of the next turn.
        if self._may_start() and self._hand_over():
            return
        self._free += 1

    def _hand_over(self) -> bool:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                self._count_start()
                return True
        return False

    def _may_start(self) -> bool:
        return self._starts_per_turn is None or self._started < self._starts_per_turn

    def _count_start(self) -> None:
        if self._starts_per_turn is None:
            return
        self._started += 1
        if not self._next_turn_scheduled:
            # Runs first in the next turn: callbacks scheduled now wait for it.
            self._next_turn_scheduled = True
            asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._next_turn_scheduled = False
        self._started = 0
        while self._free and self._may_start() and self._hand_over():
            self._free -= 1


class _Place:
    """One request's place: held, given up while it steps aside, released for good once
    its response starts."""

    def __init__(self, gate: AdmissionMiddleware) -> None:
        self._gate = gate
        self.held = False
        self.finished = False

    async def take(self, *, first: bool = False, deadline: float | None = None) -> None:
        """Wait for a place; TimeoutError once the loop's clock passes `deadline`."""
        await self._gate._enter(first=first, deadline=deadline)
        self.held = True

    def give_up(self) -> None:
        if self.held:
            self.held = False
            self._gate._leave()

    def finish(self) -> None:
        self.finished = True
        self.give_up()


_current: ContextVar[_Place | None] = ContextVar("admission_place", default=None)


@contextlib.asynccontextmanager
async def stepped_aside() -> AsyncIterator[None]:
    """Give the current request's place to another while this one waits on work done
    elsewhere (a thread pool), and take it back, ahead of new arrivals, after."""
    place = _current.get()
    if place is None or not place.held:
        yield
        return
    place.give_up()
    try:
        yield
    finally:
        if not place.finished:
            await place.take(first=True)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


async def _read_body(receive: Receive) -> Receive:
    """The whole body, read now (the body limit outside has bounded it), then replayed;
    later messages (a disconnect) come from the connection as before."""
    read: deque[Message] = deque()
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return read.popleft() if read else await receive()

    return replay


class SteppingAsideHasher(PasswordHasher):
    """A password hasher whose callers give their admission place up while their hash
    waits for and runs in the hash threads: a flood of logins then holds no places, and
    cached requests go on beside it."""

    def __init__(self, inner: PasswordHasher) -> None:
        self._inner = inner

    async def hash(self, password: str) -> str:
        async with stepped_aside():
            return await self._inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with stepped_aside():
            return await self._inner.verify(password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        async with stepped_aside():
            await self._inner.verify_dummy(password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)
