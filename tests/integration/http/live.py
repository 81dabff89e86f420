"""A WebSocket client for an ASGI app in process (what `httpx.ASGITransport` is to HTTP):
several instances in one event loop, no sockets, no threads."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import ASGIApp, Message


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class AsgiWebSocket:
    def __init__(
        self, app: ASGIApp, path: str, headers: dict[str, str], *, buffer: int = 0
    ) -> None:
        """`buffer`: messages the "network" holds for a client that does not read; the
        server's sends block beyond that (0: unbounded)."""
        self._app = app
        self._path = path
        self._headers = headers
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue(maxsize=buffer)
        self._task: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    async def __aenter__(self) -> "AsgiWebSocket":
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": self._path,
            "raw_path": self._path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in self._headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
            "state": {},
        }
        self._task = asyncio.create_task(self._run(scope))
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await self._next()
        if accepted["type"] != "websocket.accept":
            raise Closed(accepted.get("code", 1006))
        return self

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._to_app.get, self._from_app.put)
        finally:
            with contextlib.suppress(asyncio.QueueFull):
                self._from_app.put_nowait({"type": "websocket.close", "code": 1006})

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=5)

    async def _next(self, seconds: float = 10) -> Message:
        return await asyncio.wait_for(self._from_app.get(), timeout=seconds)

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self, seconds: float = 10) -> dict[str, Any]:
        """The next JSON message; `Closed` when the server closed the connection."""
        message = await self._next(seconds)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code", 1000)
            raise Closed(self.close_code or 1000)
        parsed: dict[str, Any] = json.loads(message["text"])
        return parsed


@contextlib.asynccontextmanager
async def connect(app: ASGIApp, headers: dict[str, str]) -> AsyncIterator[AsgiWebSocket]:
    async with AsgiWebSocket(app, "/api/v1/events", headers) as socket:
        yield socket


async def subscribed(
    app: ASGIApp,
    headers: dict[str, str],
    topics: list[str],
    after: str | None = None,
    *,
    buffer: int = 0,
) -> AsgiWebSocket:
    """A connection that is ready and subscribed (close it with `__aexit__`)."""
    socket = AsgiWebSocket(app, "/api/v1/events", headers, buffer=buffer)
    await socket.__aenter__()
    assert await socket.receive() == {"type": "ready"}
    message: dict[str, Any] = {"type": "subscribe", "topics": topics}
    if after is not None:
        message["after"] = after
    await socket.send(message)
    answer = await socket.receive()
    assert answer["type"] == "subscribed", answer
    return socket


class AsgiStream:
    """A streamed HTTP GET against an ASGI app in process: the status, then the body's
    chunks as the app sends them (httpx's ASGI transport waits for the whole body)."""

    def __init__(self, app: ASGIApp, path: str, query: str, headers: dict[str, str]) -> None:
        self._app = app
        self._scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50001),
            "server": ("testserver", 80),
            "state": {},
        }
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._gone = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.status = 0
        self._buffer = ""

    async def __aenter__(self) -> "AsgiStream":
        async def receive() -> Message:
            await self._gone.wait()
            return {"type": "http.disconnect"}

        self._task = asyncio.create_task(self._app(self._scope, receive, self._from_app.put))
        start = await asyncio.wait_for(self._from_app.get(), timeout=10)
        self.status = start["status"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._gone.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def frame(self, seconds: float = 10) -> dict[str, str] | None:
        """The next SSE frame as {field: value} (comments skipped); None at the end."""
        async with asyncio.timeout(seconds):
            while True:
                while "\n\n" in self._buffer:
                    raw, self._buffer = self._buffer.split("\n\n", 1)
                    fields = dict(
                        line.split(": ", 1) for line in raw.split("\n") if not line.startswith(":")
                    )
                    if fields:
                        return fields
                message = await self._from_app.get()
                self._buffer += message.get("body", b"").decode()
                if not message.get("more_body", False) and "\n\n" not in self._buffer:
                    return None
