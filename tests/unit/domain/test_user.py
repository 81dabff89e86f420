"""The User aggregate: what each change does to the account and which events it records."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.access.roles import Role
from domain.common.aggregate import Aggregate
from domain.identity.events import (
    PasswordChanged,
    UserDeactivated,
    UserDeleted,
    UserLoggedIn,
    UserRegistered,
    UserUpdated,
)
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
USER_ID = UUID(int=1)


def registered(**overrides: object) -> User:
    fields: dict[str, object] = {
        "id": USER_ID,
        "email": Email("ada@example.com"),
        "username": Username("ada"),
        "full_name": FullName("Ada Lovelace"),
        "password_hash": "hash-1",
        "now": T0,
    }
    fields.update(overrides)
    user = User.register(**fields)  # type: ignore[arg-type]
    user.pull_events()
    return user


def test_registering_records_user_registered_with_plain_defaults() -> None:
    user = User.register(
        id=USER_ID,
        email=Email("ada@example.com"),
        username=Username("ada"),
        full_name=None,
        password_hash="hash-1",
        now=T0,
    )
    assert user.pull_events() == [UserRegistered(occurred_at=T0, user_id=USER_ID)]
    assert user.roles == {Role.USER}
    assert (user.is_active, user.is_verified, user.is_admin) == (True, False, False)
    assert user.created_at == user.updated_at == T0
    assert user.last_login_at is None
    assert user.oauth_provider is None


def test_events_are_handed_out_once() -> None:
    user = User.register(
        id=USER_ID,
        email=Email("ada@example.com"),
        username=Username("ada"),
        full_name=None,
        password_hash="h",
        now=T0,
    )
    assert len(user.pull_events()) == 1
    assert user.pull_events() == []


def test_an_admin_is_whoever_holds_the_admin_role() -> None:
    assert registered(roles=frozenset({Role.ADMIN, Role.USER})).is_admin
    assert not registered(roles=frozenset({"auditor"})).is_admin


def test_users_compare_by_id() -> None:
    assert registered() == registered(email=Email("other@example.com"))
    assert registered() != registered(id=UUID(int=2))
    assert len({registered(), registered()}) == 1
    assert registered() != "not a user"


def test_updating_reports_only_the_fields_that_changed() -> None:
    user = registered()
    changed = user.update(
        now=T1,
        email=Email("ada@example.com"),
        username=Username("countess"),
        full_name=FullName("Ada Lovelace"),
        roles=frozenset({Role.USER}),
    )
    assert changed == ("username",)
    assert user.username == Username("countess")
    assert user.updated_at == T1
    assert user.pull_events() == [UserUpdated(occurred_at=T1, user_id=USER_ID, fields=changed)]


def test_updating_every_field_reports_each_one() -> None:
    user = registered()
    changed = user.update(
        now=T1,
        email=Email("new@example.com"),
        username=Username("newname"),
        full_name=FullName("New Name"),
        is_verified=True,
        roles=frozenset({Role.ADMIN}),
        is_active=False,
    )
    assert set(changed) == {"email", "username", "full_name", "is_verified", "roles", "is_active"}
    assert user.is_verified
    assert user.roles == {Role.ADMIN}
    assert not user.is_active


def test_an_update_that_changes_nothing_records_nothing_and_keeps_updated_at() -> None:
    user = registered()
    assert user.update(now=T1) == ()
    assert user.update(now=T1, email=Email("ADA@example.com"), is_active=True) == ()
    assert user.updated_at == T0
    assert user.pull_events() == []


def test_a_new_email_is_unverified_until_proven_again() -> None:
    user = registered(is_verified=True)
    user.update(now=T1, email=Email("new@example.com"))
    assert user.email == Email("new@example.com")
    assert not user.is_verified


def test_an_administrator_may_vouch_for_a_new_email_in_the_same_change() -> None:
    user = registered(is_verified=True)
    user.update(now=T1, email=Email("new@example.com"), is_verified=True)
    assert user.is_verified


def test_losing_verification_through_an_email_change_is_reported() -> None:
    user = registered(is_verified=True)
    assert user.update(now=T1, email=Email("new@example.com")) == ("email", "is_verified")


def test_re_vouching_an_already_verified_account_reports_only_the_email() -> None:
    user = registered(is_verified=True)
    assert user.update(now=T1, email=Email("new@example.com"), is_verified=True) == ("email",)


def test_the_full_name_can_be_cleared_and_clearing_none_is_no_change() -> None:
    user = registered()
    assert user.update(now=T1, clear_full_name=True) == ("full_name",)
    assert user.full_name is None
    assert user.update(now=T1, clear_full_name=True) == ()


def test_clearing_wins_over_a_full_name_given_in_the_same_change() -> None:
    user = registered()
    user.update(now=T1, full_name=FullName("Other"), clear_full_name=True)
    assert user.full_name is None


def test_deactivating_records_user_deactivated_before_user_updated() -> None:
    user = registered()
    assert user.update(now=T1, is_active=False) == ("is_active",)
    assert user.pull_events() == [
        UserDeactivated(occurred_at=T1, user_id=USER_ID),
        UserUpdated(occurred_at=T1, user_id=USER_ID, fields=("is_active",)),
    ]


def test_reactivating_records_no_deactivation() -> None:
    user = registered(is_active=False)
    user.update(now=T1, is_active=True)
    assert [type(e) for e in user.pull_events()] == [UserUpdated]


def test_logging_in_stamps_last_login_without_touching_updated_at() -> None:
    user = registered()
    session_id = UUID(int=99)
    user.record_login(session_id=session_id, now=T1)
    assert user.last_login_at == T1
    assert user.updated_at == T0
    assert user.pull_events() == [
        UserLoggedIn(occurred_at=T1, user_id=USER_ID, session_id=session_id)
    ]


def test_changing_the_password_records_password_changed() -> None:
    user = registered()
    user.change_password("hash-2", now=T1)
    assert (user.password_hash, user.updated_at) == ("hash-2", T1)
    assert user.pull_events() == [PasswordChanged(occurred_at=T1, user_id=USER_ID)]


def test_upgrading_the_hash_is_silent() -> None:
    user = registered()
    user.upgrade_password_hash("stronger")
    assert (user.password_hash, user.updated_at) == ("stronger", T0)
    assert user.pull_events() == []


def test_deleting_records_user_deleted() -> None:
    user = registered()
    user.mark_deleted(now=T1)
    [event] = user.pull_events()
    assert event == UserDeleted(occurred_at=T1, user_id=USER_ID)
    assert event.name == "UserDeleted"


def test_a_bare_aggregate_hands_out_what_it_recorded_once() -> None:
    aggregate = Aggregate()
    event = UserDeleted(occurred_at=T0, user_id=USER_ID)
    aggregate.record(event)
    assert aggregate.pull_events() == [event]
    assert aggregate.pull_events() == []
