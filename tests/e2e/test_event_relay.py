"""A crash between a commit and the relay loses no event: after the restart the event is
relayed, once, and never again."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.ports.event_outbox import OutboxEvent
from tests.e2e.conftest import Server, ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def outbox(server: Server) -> list[OutboxEvent]:
    async def read() -> list[OutboxEvent]:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(server.env['DATA_DIR'])}/hexahub.db")
        try:
            async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as tx:
                return await tx.events.after(None, limit=1000)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def on_outbox(
    server: Server, *, hold: OutboxEvent | None = None, done: OutboxEvent | None = None
) -> None:
    """`hold`: add it and lease it for an hour, as another relay would: no relay can take
    anything after it. `done`: that relay finished with it."""

    async def write() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(server.env['DATA_DIR'])}/hexahub.db")
        try:
            async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as tx:
                now = datetime.now(UTC)
                if hold is not None:
                    await tx.events.add([hold])
                    claimed = await tx.events.claim(now=now, lease_seconds=3600, limit=1)
                    assert [e.id for e in claimed] == [hold.id]
                if done is not None:
                    await tx.events.mark_relayed([done.id], now=now)
                await tx.commit()
        finally:
            await engine.dispose()

    asyncio.run(write())


def published(
    subscription: "redis.client.PubSub", seconds: float, *, first: bool = False
) -> list[dict]:
    """What the bus carried in the next `seconds` (`first`: stop at the first event)."""
    messages = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not (first and messages):
        message = subscription.get_message(ignore_subscribe_messages=True, timeout=left)
        if message is not None and message["type"] == "message":
            messages.append(json.loads(message["data"]))
    return messages


def relayed_count(server: Server, name: str) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith(f'hexahub_events_relayed_total{{name="{name}"}}')
    )


def test_an_event_committed_before_a_crash_is_relayed_after_the_restart_once(
    server_factory: ServerFactory, redis_server_url: str, redis_prefix: str
) -> None:
    server = server_factory(
        REDIS_URL=redis_server_url,
        REDIS_KEY_PREFIX=redis_prefix,
        EVENT_RELAY_INTERVAL_SECONDS="0.2",
    )
    bus = redis.Redis.from_url(redis_server_url)
    subscription = bus.pubsub()
    subscription.subscribe(f"{redis_prefix}events")
    try:
        assert subscription.get_message(timeout=5)["type"] == "subscribe"
        # Another relay holds the head of the outbox: this server commits, cannot relay.
        held = OutboxEvent(
            id=uuid.uuid4(),
            name="user.login_failed",
            topic="account",
            aggregate_id="",
            account_id=None,
            data={"reason": "invalid_credentials"},
            facts={"occurred_at": datetime.now(UTC).isoformat(), "user_id": None},
            occurred_at=datetime.now(UTC),
        )
        on_outbox(server, hold=held)
        name = f"crash{uuid.uuid4().hex[:8]}"
        registered = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        assert published(subscription, 1.0) == []
        [waiting] = [e for e in outbox(server) if e.name == "user.registered"]
        assert waiting.relayed_at is None
        assert waiting.data["id"] == registered.json()["id"]

        server.kill()  # committed, never relayed
        on_outbox(server, done=held)
        server.start()

        [event] = published(subscription, 10.0, first=True)
        assert (event["id"], event["name"]) == (str(waiting.id), "user.registered")
        assert event["data"]["id"] == registered.json()["id"]
        assert relayed_count(server, "user.registered") == 1
        assert published(subscription, 1.0) == []

        server.kill()  # relayed this time: a second crash must not send it again
        server.start()
        assert published(subscription, 2.0) == []
        assert relayed_count(server, "user.registered") == 0
        [done] = [e for e in outbox(server) if e.id == waiting.id]
        assert done.relayed_at is not None
    finally:
        subscription.close()
        bus.close()
