"""The user bodies serialised without a model (`/auth/me`, the user page) are the very
bytes `UserOut` would write, lock fields included only when asked for."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.ports.user_repository import ListedUser
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username
from entrypoints.http.schemas.users import UserOut, UserPageOut, user_json, user_page_json

NOW = datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=UTC)


def a_user(**changes: object) -> User:
    fields: dict[str, object] = {
        "id": uuid4(),
        "email": Email("ada@example.com"),
        "username": Username("ada"),
        "full_name": FullName("Ada Lovelace"),
        "password_hash": None,
        "is_active": True,
        "is_verified": True,
        "roles": frozenset({"user", "auditor"}),
        "oauth_provider": None,
        "created_at": NOW - timedelta(days=3),
        "updated_at": NOW,
        "last_login_at": NOW,
        "failed_logins": 0,
        "locked_until": None,
        "lockouts": 0,
    }
    return User(**{**fields, **changes})  # type: ignore[arg-type]


USERS = [
    a_user(),
    a_user(full_name=None, last_login_at=None, roles=frozenset(), oauth_provider="google"),
    a_user(locked_until=NOW + timedelta(minutes=5), failed_logins=5, lockouts=1),
    # Whole seconds (no fraction written) and text beyond ASCII.
    a_user(
        full_name=FullName("Zoë Ångström"),
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        last_login_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize("user", USERS)
def test_the_own_profile_is_what_the_model_writes(user: User) -> None:
    assert user_json(user) == UserOut.of(user).model_dump_json().encode()


@pytest.mark.parametrize("lock_seen_at", [NOW, None])
def test_a_page_is_what_the_model_writes_for_each_user(lock_seen_at: datetime | None) -> None:
    listed = [ListedUser.of(u) for u in USERS]
    body = user_page_json(listed, next_cursor="c", limit=3, lock_seen_at=lock_seen_at)
    model = UserPageOut(
        items=[UserOut.of(u, lock_seen_at=lock_seen_at) for u in USERS], next_cursor="c", limit=3
    )
    assert body == model.model_dump_json().encode()
    locks = [item.get("locked") for item in json.loads(body)["items"]]
    assert locks == ([False, False, True, False] if lock_seen_at else [None] * 4)


def test_a_page_read_from_postgres_is_written_the_same() -> None:
    # asyncpg hands back UUIDs of its own class, a subclass of the standard one.
    from asyncpg.pgproto.pgproto import UUID as PostgresUUID

    user = USERS[0]
    listed = ListedUser.of(user)._replace(id=PostgresUUID(user.id.bytes))
    body = user_page_json([listed], next_cursor=None, limit=1, lock_seen_at=None)
    model = UserPageOut(items=[UserOut.of(user)], next_cursor=None, limit=1)
    assert body == model.model_dump_json().encode()
