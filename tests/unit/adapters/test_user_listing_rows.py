"""A listed user's row, decoded by the page reader's fast paths, is the value the plain
constructors would have built: ids that behave as UUIDs everywhere, sorted roles."""

import copy
import uuid

from adapters.sqlalchemy import user_listing
from application.ports.user_repository import ListedUser


def test_an_id_read_from_sqlite_is_the_uuid_it_stores() -> None:
    for value in [uuid.uuid4() for _ in range(200)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]:
        read = user_listing._uuid(value.hex)  # SQLite stores the 32 digits
        assert read == value
        assert hash(read) == hash(value)
        assert str(read) == str(value)
        assert read.version == value.version
        assert read.is_safe is uuid.SafeUUID.unknown
        assert copy.deepcopy(read) == value
        assert {value: 1}[read] == 1


def test_a_sqlite_row_becomes_a_listed_user() -> None:
    user_id = uuid.uuid4()
    row = (
        user_id.hex,
        "alice@example.com",
        "alice",
        None,
        1,
        0,
        None,
        "2026-01-02 03:04:05.000006",
        "2026-01-02 03:04:06",
        None,
        "2026-01-03 00:00:00",
        "user,admin",
    )
    listed = user_listing._sqlite_row(row)
    assert type(listed) is ListedUser
    assert listed.id == user_id
    assert listed.roles == ("admin", "user")
    assert (listed.is_active, listed.is_verified) == (True, False)
    assert listed.created_at.isoformat() == "2026-01-02T03:04:05.000006+00:00"
    assert listed.last_login_at is None
    assert listed.locked_until is not None
    assert listed.locked_until.isoformat() == "2026-01-03T00:00:00+00:00"
    assert listed._replace(full_name="Alice").full_name == "Alice"  # still a NamedTuple


def test_role_combinations_are_remembered_within_a_bound() -> None:
    first = user_listing._roles("user,admin")
    assert first == ("admin", "user")
    assert user_listing._roles("user,admin") is first  # split and sorted once
    assert user_listing._roles(None) == user_listing._roles("") == ()
    for n in range(user_listing._ROLE_SETS_KEPT * 2):
        assert user_listing._roles(f"role{n},user") == (f"role{n}", "user")
    assert len(user_listing._role_sets) <= user_listing._ROLE_SETS_KEPT
