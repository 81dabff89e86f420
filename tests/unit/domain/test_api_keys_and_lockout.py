import uuid
from datetime import UTC, datetime, timedelta

from domain.access.api_keys import ApiKey
from domain.access.events import ApiKeyFirstUsed, ApiKeyRevoked
from domain.access.permissions import Permission
from domain.identity.events import AccountLocked, AccountUnlocked
from domain.identity.user import User
from domain.identity.value_objects import Email, Username

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def a_key(expires_at: datetime | None = None) -> ApiKey:
    key = ApiKey.issue(
        id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        name="ci",
        prefix="0123456789ab",
        secret_hash="f" * 64,
        scopes=frozenset({Permission.USERS_READ}),
        now=NOW,
        expires_at=expires_at,
    )
    key.pull_events()
    return key


def test_a_key_is_usable_until_it_expires_or_is_revoked() -> None:
    key = a_key(expires_at=NOW + timedelta(days=1))
    assert key.is_usable(NOW)
    assert not key.is_usable(NOW + timedelta(days=1))
    assert key.revoke(now=NOW)
    assert not key.is_usable(NOW)
    assert not key.revoke(now=NOW)  # once
    assert [type(e) for e in key.pull_events()] == [ApiKeyRevoked]


def test_first_use_is_an_event_and_later_uses_are_written_a_minute_apart() -> None:
    key = a_key()
    assert key.used(now=NOW)
    assert [type(e) for e in key.pull_events()] == [ApiKeyFirstUsed]
    assert not key.used(now=NOW + timedelta(seconds=59))
    assert key.used(now=NOW + timedelta(seconds=60))
    assert key.pull_events() == []
    assert key.last_used_at == NOW + timedelta(seconds=60)


def a_user() -> User:
    user = User.register(
        id=uuid.uuid4(),
        email=Email("ada@example.com"),
        username=Username("ada"),
        full_name=None,
        password_hash="hash",
        now=NOW,
    )
    user.pull_events()
    return user


def test_each_lock_lasts_twice_as_long_up_to_the_ceiling() -> None:
    user = a_user()
    base, ceiling = timedelta(minutes=1), timedelta(minutes=3)
    periods = []
    for _ in range(4):
        user.lock(now=NOW, base=base, ceiling=ceiling)
        assert user.locked_until is not None
        periods.append(user.locked_until - NOW)
    assert periods == [timedelta(minutes=1), timedelta(minutes=2), ceiling, ceiling]
    assert user.is_locked(NOW)
    assert not user.is_locked(NOW + ceiling)
    assert all(isinstance(e, AccountLocked) for e in user.pull_events())


def test_a_successful_login_or_an_unlock_forgets_the_failures() -> None:
    user = a_user()
    user.failed_logins = 4
    user.lock(now=NOW, base=timedelta(minutes=1), ceiling=timedelta(hours=1))
    assert user.unlock(now=NOW)
    assert (user.failed_logins, user.locked_until, user.lockouts) == (0, None, 0)
    assert isinstance(user.pull_events()[-1], AccountUnlocked)
    assert not user.unlock(now=NOW)  # nothing to lift

    user.failed_logins = 3
    user.lockouts = 2
    user.record_login(session_id=uuid.uuid4(), now=NOW)
    assert (user.failed_logins, user.lockouts) == (0, 0)
