"""AllowedHostsMiddleware around a bare ASGI app: exact names, wildcards, refusals."""

import json
from collections.abc import Sequence

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from entrypoints.http.middleware.allowed_hosts import AllowedHostsMiddleware


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def app(allowed: Sequence[str]) -> AllowedHostsMiddleware:
    return AllowedHostsMiddleware(inner, allowed_hosts=allowed)


async def status_for(
    allowed: Sequence[str], host_headers: list[bytes], *, request_id: str | None = None
) -> tuple[int, dict[str, object] | None]:
    """Drive the middleware with raw Host headers (httpx would normalize them)."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/health",
        "raw_path": b"/v1/health",
        "query_string": b"",
        "headers": [(b"host", value) for value in host_headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    if request_id is not None:
        scope["request_id"] = request_id
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(allowed)(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], (json.loads(body) if body else None)


ALLOWED = ["api.example.com", "*.hexahub.test", "127.0.0.1", "::1"]


@pytest.mark.parametrize(
    "host",
    [
        b"api.example.com",
        b"API.Example.COM",
        b"api.example.com:8443",
        b"api.example.com.",
        b"eu.hexahub.test",
        b"a.b.hexahub.test:80",
        b"127.0.0.1:8000",
        b"[::1]",
        b"[::1]:8000",
    ],
)
async def test_allowed_hosts_reach_the_app(host: bytes) -> None:
    assert await status_for(ALLOWED, [host]) == (204, None)


@pytest.mark.parametrize(
    "host",
    [
        b"evil.com",
        b"api.example.com.evil.com",
        b"hexahub.test",  # the apex is not a subdomain of itself
        b"evilhexahub.test",
        b"evil.com/.hexahub.test",  # would make links to evil.com
        b"evil.com@eu.hexahub.test",
        b"eu.hexahub.test:80x",
        b"[::2]:8000",
        b"[::1",
        b"",
    ],
)
async def test_other_hosts_are_refused_with_400_in_the_envelope(host: bytes) -> None:
    status, body = await status_for(ALLOWED, [host], request_id="req-1")
    assert status == 400
    assert body == {"error": "bad_request", "message": "invalid host header", "request_id": "req-1"}


async def test_a_missing_host_header_is_refused() -> None:
    status, body = await status_for(ALLOWED, [])
    assert status == 400
    assert body is not None
    assert body["request_id"] is None


async def test_two_host_headers_are_refused_even_if_both_are_allowed() -> None:
    status, _ = await status_for(ALLOWED, [b"api.example.com", b"api.example.com"])
    assert status == 400


@pytest.mark.parametrize("hosts", [[b"anything.example"], [], [b"a", b"b"]])
async def test_a_star_allows_any_host(hosts: list[bytes]) -> None:
    assert await status_for(["*"], hosts) == (204, None)


@pytest.mark.parametrize("pattern", ["*", "*.", "ex*mple.com", "*.*.com", "a/b", "*.[::1]"])
def test_malformed_patterns_are_refused_at_construction(pattern: str) -> None:
    if pattern == "*":
        app([pattern])  # the one wildcard that stands alone
        return
    with pytest.raises(ValueError, match="allowed host pattern"):
        app([pattern])


async def test_through_an_http_client() -> None:
    transport = httpx.ASGITransport(app=app(["api.example.com"]))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.example.com") as ok:
        assert (await ok.get("/")).status_code == 204
    async with httpx.AsyncClient(transport=transport, base_url="http://evil.com") as bad:
        response = await bad.get("/")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"


async def test_a_websocket_for_another_host_is_closed() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"evil.com")]}
    await app(ALLOWED)(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing should be sent")

    await AllowedHostsMiddleware(lifespan_app, allowed_hosts=["a.test"])(
        {"type": "lifespan"}, receive, send
    )
    assert seen == ["lifespan"]
