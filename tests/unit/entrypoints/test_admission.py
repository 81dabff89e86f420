"""Fair admission: a bounded number of requests worked on at once, the rest in arrival
order; streams, probes and WebSockets never hold a place."""

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from entrypoints.config.settings import Settings
from entrypoints.http.app import CACHED_ADMISSION_LIMIT, admission_limit
from entrypoints.http.middleware.admission import AdmissionMiddleware, stepped_aside


class Gated:
    """An app whose requests each wait for their path's gate before answering; it notes
    the order in which requests start work."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def gate(self, path: str) -> asyncio.Event:
        return self.gates.setdefault(path, asyncio.Event())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        self.started.append(path)
        if path.startswith("/stream"):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await self.gate(path).wait()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await self.gate(path).wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Any, path: str, kind: str = "http") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": kind, "path": path, "headers": []}, receive, send)
    return sent


async def answer(app: Any, inner: Gated, path: str) -> bytes:
    """`path` let through at once: the body it answers within a second."""
    inner.gate(path).set()
    return bytes((await asyncio.wait_for(call(app, path), 1))[-1]["body"])


async def respond_ok(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def discard(message: Message) -> None:
    pass


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_beyond_the_bound_wait_and_start_in_arrival_order() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=2)
    tasks = [asyncio.create_task(call(app, f"/{n}")) for n in range(5)]
    await settle()
    assert inner.started == ["/0", "/1"]
    inner.gate("/1").set()
    await settle()
    assert inner.started == ["/0", "/1", "/2"]
    for n in (0, 2, 3, 4):
        inner.gate(f"/{n}").set()
    answers = await asyncio.gather(*tasks)
    assert inner.started == ["/0", "/1", "/2", "/3", "/4"]
    assert all(sent[-1]["body"] == b"ok" for sent in answers)


async def test_a_started_stream_gives_its_place_up() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1)
    stream = asyncio.create_task(call(app, "/stream"))
    await settle()
    assert await answer(app, inner, "/after") == b"ok"
    inner.gate("/stream").set()
    await stream


async def test_probes_and_websockets_never_wait() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1)
    busy = asyncio.create_task(call(app, "/busy"))
    await settle()
    for path in ("/health/live", "/metrics"):
        assert await answer(app, inner, path) == b"ok"
    inner.gate("/socket").set()
    await asyncio.wait_for(call(app, "/socket", kind="websocket"), 1)
    inner.gate("/busy").set()
    await busy


async def test_a_request_that_leaves_the_queue_loses_no_place() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1)
    first = asyncio.create_task(call(app, "/first"))
    await settle()
    gone = asyncio.create_task(call(app, "/gone"))
    await settle()
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    inner.gate("/first").set()
    await first
    # The bound is whole again: the next two run one after the other, never stuck.
    for path in ("/next", "/last"):
        assert await answer(app, inner, path) == b"ok"
    assert "/gone" not in inner.started


async def test_a_failing_request_gives_its_place_up() -> None:
    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = AdmissionMiddleware(failing, limit=1)
    for _ in range(2):  # the second would wait forever if the first kept its place
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(call(app, "/x"), 1)


async def test_a_slow_body_holds_no_place() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1)
    never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def trickle() -> Message:
        return await never  # the body never finishes arriving

    scope = {"type": "http", "path": "/upload", "headers": [(b"content-length", b"10")]}
    slow = asyncio.create_task(app(scope, trickle, discard))
    await settle()
    assert await answer(app, inner, "/quick") == b"ok"
    slow.cancel()
    await asyncio.gather(slow, return_exceptions=True)


async def test_the_body_reaches_the_app_whole() -> None:
    received: list[Message] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        while not received or received[-1].get("more_body"):
            received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    parts = iter([b"ab", b"cd", b""])

    async def receive() -> Message:
        part = next(parts)
        return {"type": "http.request", "body": part, "more_body": bool(part)}

    scope = {"type": "http", "path": "/x", "headers": [(b"transfer-encoding", b"chunked")]}
    await AdmissionMiddleware(echo, limit=1)(scope, receive, discard)
    assert b"".join(m["body"] for m in received) == b"abcd"


async def test_a_request_that_waits_too_long_is_told_to_retry() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1, wait_seconds=0.05)
    busy = asyncio.create_task(call(app, "/busy"))
    await settle()
    refused = await call(app, "/late")
    assert refused[0]["status"] == 503
    assert (b"retry-after", b"1") in refused[0]["headers"]
    assert b'"service_unavailable"' in refused[-1]["body"]
    assert "/late" not in inner.started
    inner.gate("/busy").set()
    await busy


async def test_a_request_steps_aside_while_it_waits_on_other_work_and_comes_back_first() -> None:
    order: list[str] = []
    hashing = asyncio.Event()
    hashed = asyncio.Event()

    async def app_(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        order.append(f"start {path}")
        if path == "/login":
            async with stepped_aside():
                hashing.set()
                await hashed.wait()  # a hash in the thread pool
            order.append("login back")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = AdmissionMiddleware(app_, limit=1)
    login = asyncio.create_task(call(app, "/login"))
    await hashing.wait()
    await asyncio.wait_for(call(app, "/me"), 1)  # ran while the login hashed
    assert order == ["start /login", "start /me"]
    hashed.set()
    await login
    assert order[-1] == "login back"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_bound_is_on_while_requests_are_served_from_the_cache() -> None:
    assert admission_limit(settings()) == CACHED_ADMISSION_LIMIT  # the embedded default
    assert admission_limit(settings(workers=2)) == 8  # SQLite's workers share a counter
    assert admission_limit(settings(redis_url="redis://127.0.0.1:6379/0")) == 8


def test_no_bound_where_every_request_waits_on_the_database() -> None:
    assert admission_limit(settings(cache_enabled=False)) == 0
    postgres = "postgresql+asyncpg://postgres@127.0.0.1/hexahub"
    assert admission_limit(settings(database_url=postgres)) == 0  # no Redis: cache off


def test_an_explicit_bound_wins() -> None:
    assert admission_limit(settings(cache_enabled=False, max_concurrent_requests=4)) == 4
    assert admission_limit(settings(max_concurrent_requests=0)) == 0


async def test_each_waiting_request_has_its_own_deadline() -> None:
    inner = Gated()
    app = AdmissionMiddleware(inner, limit=1, wait_seconds=0.2)
    busy = asyncio.create_task(call(app, "/busy"))
    await settle()
    early = asyncio.create_task(call(app, "/early"))
    await asyncio.sleep(0.1)
    late = asyncio.create_task(call(app, "/late"))
    refused = await early  # at its deadline, while the later one still waits
    assert refused[0]["status"] == 503
    assert not late.done()
    inner.gate("/late").set()
    inner.gate("/busy").set()
    assert (await asyncio.wait_for(late, 1))[0]["status"] == 200
    await busy
    assert inner.started == ["/busy", "/late"]


async def test_a_request_back_from_stepping_aside_goes_before_new_arrivals() -> None:
    inner = Gated()
    hashed = asyncio.Event()
    order: list[str] = []

    async def app_(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/login":
            async with stepped_aside():
                await hashed.wait()
            order.append("/login")
            await respond_ok(send)
            return
        await inner(scope, receive, send)
        order.append(scope["path"])

    app = AdmissionMiddleware(app_, limit=1)
    login = asyncio.create_task(call(app, "/login"))
    await settle()
    busy = asyncio.create_task(call(app, "/busy"))  # takes the place the login gave up
    await settle()
    new = asyncio.create_task(call(app, "/new"))  # waits
    await settle()
    hashed.set()  # the login wants its place back, after /new arrived
    await settle()
    inner.gate("/busy").set()
    inner.gate("/new").set()
    await asyncio.gather(login, busy, new)
    assert order == ["/busy", "/login", "/new"]


class Ticker:
    """Counts turns of the event loop: a callback that schedules itself again."""

    def __init__(self) -> None:
        self.turn = 0
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.turn += 1
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def test_at_most_the_bound_of_new_requests_start_in_one_turn() -> None:
    ticker = Ticker()
    starts: list[tuple[int, str]] = []

    async def app_(scope: Scope, receive: Receive, send: Send) -> None:
        starts.append((ticker.turn, scope["path"]))  # answers at once: holds no place long
        await respond_ok(send)

    app = AdmissionMiddleware(app_, limit=10, starts_per_turn=2)
    try:
        answers = await asyncio.wait_for(asyncio.gather(*(call(app, f"/{n}") for n in range(7))), 1)
    finally:
        ticker.stop()
    assert all(sent[-1]["body"] == b"ok" for sent in answers)
    assert [path for _, path in starts] == [f"/{n}" for n in range(7)]  # in arrival order
    per_turn = [turn for turn, _ in starts]
    assert max(per_turn.count(turn) for turn in per_turn) == 2
    assert len(set(per_turn)) == 4  # 2 + 2 + 2 + 1


async def test_a_request_coming_back_takes_a_free_place_whatever_this_turn_started() -> None:
    hashed = asyncio.Event()
    order: list[str] = []

    async def app_(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/login":
            async with stepped_aside():
                await hashed.wait()
        if scope["path"] == "/a":
            hashed.set()  # the login's hash comes back in the turn /a spent the starts of
        order.append(scope["path"])
        await respond_ok(send)

    app = AdmissionMiddleware(app_, limit=4, starts_per_turn=1)
    login = asyncio.create_task(call(app, "/login"))
    await settle()
    new = [asyncio.create_task(call(app, path)) for path in ("/a", "/b")]
    await asyncio.wait_for(asyncio.gather(login, *new), 1)
    # /b waits for the next turn's start; the login, begun before, does not wait for it.
    assert order == ["/a", "/login", "/b"]
