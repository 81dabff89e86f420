"""AuthSession: activity, revocation (once), re-use detection and sliding expiry."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.identity.events import RefreshReuseDetected, SessionRefreshed, SessionRevoked
from domain.identity.session import AuthSession

T0 = datetime(2025, 1, 1, tzinfo=UTC)
LIFETIME = timedelta(days=14)
SESSION_ID, USER_ID = UUID(int=10), UUID(int=1)


def new_session(**overrides: object) -> AuthSession:
    fields: dict[str, object] = {
        "id": SESSION_ID,
        "user_id": USER_ID,
        "created_at": T0,
        "last_used_at": T0,
        "expires_at": T0 + LIFETIME,
    }
    fields.update(overrides)
    return AuthSession(**fields)  # type: ignore[arg-type]


def test_a_session_is_active_until_the_instant_it_expires() -> None:
    session = new_session()
    assert session.is_active(T0)
    assert session.is_active(T0 + LIFETIME - timedelta(microseconds=1))
    assert not session.is_active(T0 + LIFETIME)


def test_a_revoked_session_is_inactive_at_once() -> None:
    session = new_session()
    assert session.revoke(now=T0, reason="logout")
    assert not session.is_active(T0)
    assert (session.revoked_at, session.revoked_reason) == (T0, "logout")
    assert session.pull_events() == [
        SessionRevoked(occurred_at=T0, user_id=USER_ID, session_id=SESSION_ID, reason="logout")
    ]


def test_revoking_twice_keeps_the_first_revocation_and_records_nothing() -> None:
    session = new_session()
    session.revoke(now=T0, reason="logout")
    session.pull_events()
    assert not session.revoke(now=T0 + timedelta(hours=1), reason="other")
    assert (session.revoked_at, session.revoked_reason) == (T0, "logout")
    assert session.pull_events() == []


def test_reuse_records_the_detection_then_the_revocation() -> None:
    session = new_session()
    assert session.revoke_for_reuse(now=T0)
    assert session.revoked_reason == "refresh_reuse"
    assert session.pull_events() == [
        RefreshReuseDetected(occurred_at=T0, user_id=USER_ID, session_id=SESSION_ID),
        SessionRevoked(
            occurred_at=T0, user_id=USER_ID, session_id=SESSION_ID, reason="refresh_reuse"
        ),
    ]


def test_reuse_on_an_already_revoked_session_records_nothing() -> None:
    session = new_session(revoked_at=T0, revoked_reason="logout")
    assert not session.revoke_for_reuse(now=T0 + timedelta(seconds=1))
    assert session.revoked_reason == "logout"
    assert session.pull_events() == []


def test_refreshing_slides_the_expiry_and_records_session_refreshed() -> None:
    session = new_session()
    later = T0 + timedelta(days=10)
    session.refreshed(now=later, expires_at=later + LIFETIME)
    assert session.last_used_at == later
    assert session.expires_at == later + LIFETIME
    assert session.is_active(T0 + LIFETIME + timedelta(days=1))
    assert session.pull_events() == [
        SessionRefreshed(occurred_at=later, user_id=USER_ID, session_id=SESSION_ID)
    ]


def test_sessions_compare_by_id() -> None:
    assert new_session() == new_session(ip="10.0.0.1")
    assert new_session() != new_session(id=UUID(int=11))
    assert new_session() != object()
    assert len({new_session(), new_session()}) == 1
