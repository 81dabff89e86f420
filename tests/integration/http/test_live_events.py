"""Live events over WebSocket, as the contract's "Live events" section fixes them:
authentication (headers or a first message), topics and who may follow them, events as
they commit, resume with `after`, and connections cut off when their session dies."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from adapters.memory.password_hasher import FakePasswordHasher
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.routers import events as events_router
from tests.integration.http.conftest import ADMIN, STARTUP_TIMEOUT, make_settings
from tests.integration.http.helpers import PASSWORD, bearer, login, register
from tests.integration.http.live import AsgiStream, AsgiWebSocket, Closed, connect, subscribed


class Instance:
    def __init__(self, client: httpx.AsyncClient, app: Any, container: Any) -> None:
        self.client = client
        self.app = app
        self.container = container


@contextlib.asynccontextmanager
async def instance(
    tmp_path: Path, clock: FixedClock | None = None, **settings: Any
) -> AsyncIterator[Instance]:
    config = make_settings(tmp_path, event_relay_interval_seconds=0.2, **settings)
    container = Container(settings=providers.Object(config))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    if clock is not None:
        container.clock.override(providers.Object(clock))
    async with LifespanManager(
        create_app(config, container), startup_timeout=STARTUP_TIMEOUT
    ) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Instance(client, manager.app, container)


@pytest.fixture
async def one(tmp_path: Path) -> AsyncIterator[Instance]:
    async with instance(tmp_path, database_url="memory://", **ADMIN) as single:
        yield single


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await login(client, "admin", ADMIN["first_admin_password"]))


async def events_until(
    socket: AsgiWebSocket, count: int, *, name: str | None = None, seconds: float = 5
) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(seconds):
        while len(received) < count:
            message = await socket.receive(seconds=seconds)
            assert message["type"] == "event", message
            if name is None or message["event"]["name"] == name:
                received.append(message["event"])
    return received


def uuid7_at(moment: datetime) -> UUID:
    """A UUIDv7 issued at `moment` (RFC 9562 §5.7: 48 bits of Unix milliseconds first)."""
    milliseconds = int(moment.timestamp() * 1000)
    return UUID(int=(milliseconds << 80) | (0x7 << 76) | (0b10 << 62) | 12345)


async def nothing_more(socket: AsgiWebSocket, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        await socket.receive(seconds=seconds)


# --- one instance -----------------------------------------------------------------------


async def test_a_bearer_token_on_the_handshake_gets_ready_and_events(one: Instance) -> None:
    admin = await admin_headers(one.client)
    socket = await subscribed(one.app, admin, ["users"])
    try:
        user = await register(one.client)
        [event] = await events_until(socket, 1, name="user.registered")
        assert event["topic"] == "users"
        assert event["data"]["id"] == user["id"]
        assert event["data"]["email"] == user["email"]
        assert set(event) == {"id", "name", "topic", "occurred_at", "data"}
        assert "password" not in str(event)
        assert "hash" not in str(event)
    finally:
        await socket.__aexit__()


async def test_browsers_authenticate_with_a_first_message(one: Instance) -> None:
    tokens = await login(one.client, "admin", ADMIN["first_admin_password"])
    async with connect(one.app, {}) as socket:
        await socket.send({"type": "auth", "access_token": tokens["access_token"]})
        assert await socket.receive() == {"type": "ready"}


async def test_no_authentication_in_time_closes_4408(
    one: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_router, "AUTH_TIMEOUT_SECONDS", 0.2)
    async with connect(one.app, {}) as socket:
        with pytest.raises(Closed) as closed:
            await socket.receive()
        assert closed.value.code == 4408


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer not-a-token"}, {"X-API-Key": "hx_nonsense"}],
    ids=["bad-token", "bad-key"],
)
async def test_bad_credentials_close_4401(one: Instance, headers: dict[str, str]) -> None:
    async with connect(one.app, headers) as socket:
        with pytest.raises(Closed) as closed:
            await socket.receive()
        assert closed.value.code == 4401


async def test_a_topic_the_caller_may_not_read_is_refused_and_others_still_flow(
    one: Instance,
) -> None:
    user = await register(one.client)
    headers = bearer(await login(one.client, user["username"]))
    async with connect(one.app, headers) as socket:
        assert await socket.receive() == {"type": "ready"}
        await socket.send({"type": "subscribe", "topics": ["users", "account", "system"]})
        assert await socket.receive() == {"type": "error", "error": "forbidden", "topic": "users"}
        assert await socket.receive() == {"type": "error", "error": "forbidden", "topic": "system"}
        assert await socket.receive() == {"type": "subscribed", "topics": ["account"]}
        # Another account's events never reach it; its own do.
        other = await register(one.client)
        await login(one.client, other["username"])
        await login(one.client, user["username"])
        [event] = await events_until(socket, 1)
        assert event["name"] == "user.logged_in"
        assert event["data"]["id"] == user["id"]


async def test_a_permission_removed_applies_to_the_next_event(one: Instance) -> None:
    admin = await admin_headers(one.client)
    reader = await register(one.client)
    await one.client.post(
        "/api/v1/roles", json={"name": "reader", "permissions": ["users:read"]}, headers=admin
    )
    response = await one.client.put(
        f"/api/v1/users/{reader['id']}/roles", json={"roles": ["reader"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    socket = await subscribed(
        one.app, bearer(await login(one.client, reader["username"])), ["users"]
    )
    try:
        await register(one.client)
        assert (await events_until(socket, 1, name="user.registered"))[0]
        response = await one.client.put(
            f"/api/v1/users/{reader['id']}/roles", json={"roles": ["user"]}, headers=admin
        )
        assert response.status_code == 200, response.text
        await register(one.client)
        await nothing_more(socket)
    finally:
        await socket.__aexit__()


async def test_a_failed_request_produces_no_event(one: Instance) -> None:
    admin = await admin_headers(one.client)
    taken = await register(one.client)
    socket = await subscribed(one.app, admin, ["users"])
    try:
        target = await register(one.client)
        await events_until(socket, 1, name="user.registered")
        conflict = await one.client.patch(
            f"/api/v1/users/{target['id']}", json={"username": taken["username"]}, headers=admin
        )
        assert conflict.status_code == 409
        invalid = await one.client.patch(
            f"/api/v1/users/{target['id']}", json={"email": "not an email"}, headers=admin
        )
        assert invalid.status_code == 422
        await nothing_more(socket)
    finally:
        await socket.__aexit__()


async def test_resume_replays_exactly_what_was_missed(one: Instance) -> None:
    admin = await admin_headers(one.client)
    socket = await subscribed(one.app, admin, ["users"])
    users = [await register(one.client) for _ in range(3)]
    seen = await events_until(socket, 3, name="user.registered")
    await socket.__aexit__()
    # Missed while away.
    missed = [await register(one.client) for _ in range(4)]
    socket = await subscribed(one.app, admin, ["users"], after=seen[-1]["id"])
    try:
        replayed = await events_until(socket, 4)
        assert [e["data"]["id"] for e in replayed] == [u["id"] for u in missed]
        # Then live, with no duplicate of what the replay sent.
        late = await register(one.client)
        [live] = await events_until(socket, 1)
        assert live["data"]["id"] == late["id"]
        await nothing_more(socket)
    finally:
        await socket.__aexit__()
    assert users  # the first three were seen live, before the gap


async def test_an_id_older_than_the_retention_window_gets_resume_expired(one: Instance) -> None:
    admin = await admin_headers(one.client)
    async with connect(one.app, admin) as socket:
        assert await socket.receive() == {"type": "ready"}
        stale = uuid7_at(datetime.now(UTC) - timedelta(days=2))
        await socket.send({"type": "subscribe", "topics": ["users"], "after": str(stale)})
        assert (await socket.receive())["type"] == "subscribed"
        assert await socket.receive() == {"type": "error", "error": "resume_expired"}


async def test_logout_closes_the_connection_with_4401(one: Instance) -> None:
    user = await register(one.client)
    headers = bearer(await login(one.client, user["username"]))
    socket = await subscribed(one.app, headers, ["account"])
    response = await one.client.post("/api/v1/auth/logout", headers=headers)
    assert response.status_code == 204
    async with asyncio.timeout(2):
        while (message := await socket.receive()) != {"type": "revoked"}:
            assert message["type"] == "event"
        with pytest.raises(Closed) as closed:
            await socket.receive()
    assert closed.value.code == 4401
    assert PASSWORD  # the helper's password signed it in


# --- Server-Sent Events -----------------------------------------------------------------


def stream(one: Instance, headers: dict[str, str], topics: str) -> AsgiStream:
    return AsgiStream(one.app, "/api/v1/events/stream", f"topics={topics}", headers)


async def test_sse_carries_events_with_id_name_and_data(one: Instance) -> None:
    admin = await admin_headers(one.client)
    async with stream(one, admin, "users") as events:
        assert events.status == 200
        user = await register(one.client)
        frame = await events.frame()
    assert frame is not None
    assert frame["event"] == "user.registered"
    event = json.loads(frame["data"])
    assert frame["id"] == event["id"]
    assert event["data"]["id"] == user["id"]


async def test_sse_resumes_from_last_event_id(one: Instance) -> None:
    admin = await admin_headers(one.client)
    async with stream(one, admin, "users") as events:
        await register(one.client)
        seen = await events.frame()
    assert seen is not None
    missed = [await register(one.client) for _ in range(2)]
    async with stream(one, {**admin, "Last-Event-ID": seen["id"]}, "users") as events:
        replayed = [await events.frame(), await events.frame()]
    assert [json.loads(f["data"])["data"]["id"] for f in replayed if f] == [u["id"] for u in missed]


async def test_sse_refuses_a_forbidden_topic_before_streaming(one: Instance) -> None:
    user = await register(one.client)
    headers = bearer(await login(one.client, user["username"]))
    response = await one.client.get(
        "/api/v1/events/stream", params={"topics": "users"}, headers=headers
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    unauthenticated = await one.client.get("/api/v1/events/stream", params={"topics": "users"})
    assert unauthenticated.status_code == 401


async def test_sse_ends_with_revoked_when_the_session_does(one: Instance) -> None:
    user = await register(one.client)
    headers = bearer(await login(one.client, user["username"]))
    async with stream(one, headers, "account") as events:
        assert (await one.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        async with asyncio.timeout(2):
            while (frame := await events.frame()) is not None and frame["event"] != "revoked":
                pass
            assert frame is not None
            assert await events.frame() is None


async def read_until_closed(socket: AsgiWebSocket) -> tuple[int, int]:
    """(events read, close code) once the server closes."""
    received = 0
    while True:
        try:
            message = await socket.receive(seconds=5)
        except Closed as closed:
            return received, closed.code
        received += message["type"] == "event"


async def test_a_consumer_that_stops_reading_is_closed_with_4429_not_buffered(
    tmp_path: Path,
) -> None:
    async with instance(tmp_path, database_url="memory://", live_queue_limit=5, **ADMIN) as one:
        admin = await admin_headers(one.client)
        # The "network" holds 3 messages; past them the server's sends block.
        socket = await subscribed(one.app, admin, ["users"], buffer=3)
        hub = one.container.live_hub()
        try:
            for _ in range(30):
                await register(one.client)
                # Bounded, whatever the client does (the hub may already have let it go).
                assert all(backlog <= 5 for backlog in hub.backlogs)
            received, code = await read_until_closed(socket)
            assert code == 4429
            assert received < 30
            assert hub.connections == 0
        finally:
            await socket.__aexit__()


async def test_connections_past_the_per_account_limit_are_refused(tmp_path: Path) -> None:
    async with instance(
        tmp_path, database_url="memory://", live_max_connections_per_user=1, **ADMIN
    ) as one:
        admin = await admin_headers(one.client)
        first = await subscribed(one.app, admin, ["users"])
        try:
            async with connect(one.app, admin) as second:
                with pytest.raises(Closed) as closed:
                    await second.receive()
                assert closed.value.code == 4429
            response = await one.client.get(
                "/api/v1/events/stream", params={"topics": "users"}, headers=admin
            )
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "5"
        finally:
            await first.__aexit__()


async def test_an_expired_access_token_closes_the_connection_with_4401(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_router, "REVALIDATE_SECONDS", 0.1)
    clock = FixedClock(datetime.now(UTC))
    async with instance(
        tmp_path, clock, database_url="memory://", access_token_ttl_seconds=60, **ADMIN
    ) as one:
        socket = await subscribed(one.app, await admin_headers(one.client), ["account"])
        try:
            clock.advance(seconds=59)
            await nothing_more(socket, 0.3)
            clock.advance(seconds=2)
            assert await socket.receive(seconds=2) == {"type": "revoked"}
            with pytest.raises(Closed) as closed:
                await socket.receive()
            assert closed.value.code == 4401
        finally:
            await socket.__aexit__()
