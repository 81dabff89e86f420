"""The `EventPublisher` contract, run against the in-memory list and the structlog line.

Each adapter exposes what it handed on as plain records: the snake_case event name and
the event's ids as strings, which is what a consumer of either would see.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from adapters.logging.event_publisher import StructlogEventPublisher
from adapters.memory.event_publisher import InMemoryEventPublisher
from application.ports.event_publisher import EventPublisher
from domain.identity.events import LoginFailed, SessionRevoked, UserLoggedIn, UserRegistered

AT = datetime(2025, 1, 1, tzinfo=UTC)
USER = uuid.UUID("01940000-0000-7000-8000-000000000001")
SESSION = uuid.UUID("01940000-0000-7000-8000-000000000002")


@dataclass
class Subject:
    publisher: EventPublisher
    handed_on: Callable[[], list[dict[str, Any]]]


_NAMES = {
    "UserRegistered": "user_registered",
    "UserLoggedIn": "user_logged_in",
    "SessionRevoked": "session_revoked",
    "LoginFailed": "login_failed",
}


@pytest.fixture(params=["memory", "structlog"])
def subject(request: pytest.FixtureRequest) -> Subject:
    if request.param == "memory":
        memory = InMemoryEventPublisher()

        def from_memory() -> list[dict[str, Any]]:
            return [
                {"event": _NAMES[e.name]}
                | {k: None if v is None else str(v) for k, v in _ids(e).items()}
                for e in memory.events
            ]

        return Subject(memory, from_memory)

    capture = LogCapture()
    logger = structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])

    def from_log() -> list[dict[str, Any]]:
        return [
            {k: v for k, v in entry.items() if k == "event" or k.endswith("_id")}
            for entry in capture.entries
        ]

    return Subject(StructlogEventPublisher(logger), from_log)


def _ids(event: object) -> dict[str, object]:
    return {k: getattr(event, k) for k in ("user_id", "session_id") if hasattr(event, k)}


async def test_events_are_handed_on_once_each_in_order(subject: Subject) -> None:
    await subject.publisher.publish(
        [
            UserRegistered(occurred_at=AT, user_id=USER),
            UserLoggedIn(occurred_at=AT, user_id=USER, session_id=SESSION),
        ]
    )
    await subject.publisher.publish(
        [SessionRevoked(occurred_at=AT, user_id=USER, session_id=SESSION, reason="logout")]
    )
    assert subject.handed_on() == [
        {"event": "user_registered", "user_id": str(USER)},
        {"event": "user_logged_in", "user_id": str(USER), "session_id": str(SESSION)},
        {"event": "session_revoked", "user_id": str(USER), "session_id": str(SESSION)},
    ]


async def test_an_absent_id_is_handed_on_as_absent(subject: Subject) -> None:
    await subject.publisher.publish([LoginFailed(occurred_at=AT, user_id=None)])
    assert subject.handed_on() == [{"event": "login_failed", "user_id": None}]


async def test_publishing_nothing_hands_on_nothing(subject: Subject) -> None:
    await subject.publisher.publish([])
    assert subject.handed_on() == []
