"""StructlogEventPublisher: one safe line per event, and it never raises."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from adapters.logging.event_publisher import StructlogEventPublisher, event_name
from domain.common.events import DomainEvent
from domain.identity import events
from domain.identity.events import RefreshReuseDetected, SessionRevoked, UserUpdated

AT = datetime(2025, 1, 1, tzinfo=UTC)
USER = uuid.uuid4()
SESSION = uuid.uuid4()


@pytest.fixture
def capture() -> LogCapture:
    return LogCapture()


@pytest.fixture
def publisher(capture: LogCapture) -> StructlogEventPublisher:
    return StructlogEventPublisher(
        structlog.wrap_logger(structlog.ReturnLogger(), processors=[capture])
    )


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (events.UserRegistered, "user_registered"),
        (events.UserLoggedIn, "user_logged_in"),
        (events.RefreshReuseDetected, "refresh_reuse_detected"),
        (events.PasswordChanged, "password_changed"),
    ],
)
def test_event_names_are_snake_case(cls: type[DomainEvent], expected: str) -> None:
    assert event_name(cls.__new__(cls)) == expected


async def test_a_line_holds_ids_time_and_named_details(
    publisher: StructlogEventPublisher, capture: LogCapture
) -> None:
    await publisher.publish(
        [
            SessionRevoked(occurred_at=AT, user_id=USER, session_id=SESSION, reason="logout"),
            UserUpdated(occurred_at=AT, user_id=USER, fields=("email", "full_name")),
        ]
    )
    assert capture.entries == [
        {
            "event": "session_revoked",
            "log_level": "info",
            "occurred_at": AT.isoformat(),
            "user_id": str(USER),
            "session_id": str(SESSION),
            "reason": "logout",
        },
        {
            "event": "user_updated",
            "log_level": "info",
            "occurred_at": AT.isoformat(),
            "user_id": str(USER),
            "fields": ["email", "full_name"],
        },
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class _CarelessEvent(DomainEvent):
    user_id: uuid.UUID
    password_hash: str
    token: str


async def test_fields_outside_the_allowlist_are_never_logged(
    publisher: StructlogEventPublisher, capture: LogCapture
) -> None:
    await publisher.publish(
        [_CarelessEvent(occurred_at=AT, user_id=USER, password_hash="$argon2id$x", token="t0k")]
    )
    (entry,) = capture.entries
    assert "password_hash" not in entry
    assert "token" not in entry
    assert "$argon2id$x" not in repr(entry)
    assert entry["user_id"] == str(USER)


class _FlakyLogger:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, event: str, **_: Any) -> None:
        if not self.lines:
            self.lines.append("failed")
            raise RuntimeError("log sink down")
        self.lines.append(event)


async def test_a_logging_failure_never_reaches_the_caller_and_later_events_still_go() -> None:
    logger = _FlakyLogger()
    publisher = StructlogEventPublisher(logger)  # type: ignore[arg-type]
    await publisher.publish(
        [
            RefreshReuseDetected(occurred_at=AT, user_id=USER, session_id=SESSION),
            SessionRevoked(occurred_at=AT, user_id=USER, session_id=SESSION, reason="reuse"),
        ]
    )
    assert logger.lines == ["failed", "session_revoked"]
