"""What a signed-in user does to their own account: profile, password and sessions."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest

from application.common.security import Principal
from application.errors import (
    ConcurrentUpdateError,
    EmailAlreadyRegisteredError,
    InvalidCurrentPasswordError,
    InvalidTokenError,
    SessionNotFoundError,
    UsernameTakenError,
    UserNotFoundError,
)
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.update_own_profile import UpdateOwnProfileCommand
from domain.access.roles import Role
from domain.common.errors import InvalidEmailError, InvalidFullNameError, WeakPasswordError
from domain.identity.events import PasswordChanged, SessionRevoked, UserUpdated
from domain.identity.value_objects import Email, FullName, Username
from tests.unit.application.conftest import PASSWORD, REFRESH_TTL, App
from tests.unit.application.fakes import UnavailableRevocationStore

NEW_PASSWORD = "a brand new passphrase"

# --- GetOwnProfile -----------------------------------------------------------------------


async def test_the_own_profile_is_the_caller_as_loaded(app: App) -> None:
    ada = await app.signed_in("ada")
    profile = await app.get_own_profile.execute(ada)
    assert profile.id == ada.user_id
    assert profile.username == Username("ada")


# --- UpdateOwnProfile --------------------------------------------------------------------


async def test_a_user_changes_their_username_and_full_name(app: App) -> None:
    ada = await app.signed_in("ada")
    app.clock.advance(seconds=10)
    updated = await app.update_own_profile.execute(
        ada,
        UpdateOwnProfileCommand(
            username="Countess", full_name=" Ada King ", current_password=PASSWORD
        ),
    )
    assert updated.username == Username("countess")
    assert updated.full_name == FullName("Ada King")
    assert updated.updated_at == app.clock.now()
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert (stored.username, stored.full_name) == (Username("countess"), FullName("Ada King"))
    assert app.events.events[-1] == UserUpdated(
        occurred_at=app.clock.now(), user_id=ada.user_id, fields=("username", "full_name")
    )


async def test_a_new_email_must_be_proven_again(app: App) -> None:
    ada = await app.signed_in("ada")
    await app.change_stored_user(
        ada.user_id, lambda u: u.update(now=u.updated_at, is_verified=True)
    )
    updated = await app.update_own_profile.execute(
        ada, UpdateOwnProfileCommand(email="Ada.New@Example.com", current_password=PASSWORD)
    )
    assert updated.email == Email("ada.new@example.com")
    assert not updated.is_verified
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert not stored.is_verified


@pytest.mark.parametrize(
    "command",
    [UpdateOwnProfileCommand(clear_full_name=True), UpdateOwnProfileCommand(full_name="")],
)
async def test_the_full_name_can_be_removed(app: App, command: UpdateOwnProfileCommand) -> None:
    await app.sign_up("ada", full_name="Ada")
    ada = await app.principal_for(await app.log_in_as("ada"))
    updated = await app.update_own_profile.execute(ada, command)
    assert updated.full_name is None
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert stored.full_name is None


async def test_a_taken_email_or_username_is_a_conflict(app: App) -> None:
    await app.sign_up("bob")
    ada = await app.signed_in("ada")
    with pytest.raises(EmailAlreadyRegisteredError):
        await app.update_own_profile.execute(
            ada, UpdateOwnProfileCommand(email="BOB@example.com", current_password=PASSWORD)
        )
    with pytest.raises(UsernameTakenError):
        await app.update_own_profile.execute(
            ada, UpdateOwnProfileCommand(username="bob", current_password=PASSWORD)
        )
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert (stored.email, stored.username) == (Email("ada@example.com"), Username("ada"))


async def test_keeping_ones_own_email_and_username_is_no_change(app: App) -> None:
    ada = await app.signed_in("ada")
    published = len(app.events.events)
    updated = await app.update_own_profile.execute(
        ada, UpdateOwnProfileCommand(email="ADA@example.com", username="Ada")
    )
    assert updated.updated_at == ada.user.updated_at
    assert len(app.events.events) == published


async def test_invalid_profile_input_is_refused(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(InvalidEmailError):
        await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(email="nope"))
    with pytest.raises(InvalidFullNameError):
        await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(full_name="x" * 129))


async def test_a_profile_update_for_a_deleted_account_is_not_found(app: App) -> None:
    ada = await app.signed_in("ada")
    async with app.uow() as uow:
        await uow.users.delete(ada.user_id)
        await uow.commit()
    with pytest.raises(UserNotFoundError):
        await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(username="ghost"))


async def test_the_profile_cannot_grant_roles_or_activity(app: App) -> None:
    with pytest.raises(TypeError):
        UpdateOwnProfileCommand(roles=["admin"])  # type: ignore[call-arg]
    ada = await app.signed_in("ada")
    updated = await app.update_own_profile.execute(
        ada, UpdateOwnProfileCommand(username="ada2", current_password=PASSWORD)
    )
    assert updated.roles == {Role.USER}


# --- ChangePassword ----------------------------------------------------------------------


async def test_changing_the_password_keeps_this_session_and_ends_the_others(app: App) -> None:
    await app.sign_up("ada")
    here, phone, laptop = [await app.log_in_as("ada") for _ in range(3)]
    caller = await app.principal_for(here)

    await app.change_password.execute(
        caller, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )

    assert (await app.principal_for(here)).session_id == here.session_id
    for other in (phone, laptop):
        with pytest.raises(InvalidTokenError):
            await app.principal_for(other)
        assert await app.revocations.is_session_revoked(other.session_id)
        session = await app.stored_session(other.session_id)
        assert session is not None
        assert session.revoked_reason == "password_changed"
    with pytest.raises(Exception, match="invalid username or password"):
        await app.log_in_as("ada")
    await app.log_in_as("ada", password=NEW_PASSWORD)

    names = app.event_names()
    assert names.count("PasswordChanged") == 1
    assert names.count("SessionRevoked") == 2


async def test_the_password_change_is_announced_with_the_sessions_it_ended(app: App) -> None:
    await app.sign_up("ada")
    here, other = await app.log_in_as("ada"), await app.log_in_as("ada")
    caller = await app.principal_for(here)
    before = len(app.events.events)
    await app.change_password.execute(
        caller, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    assert app.events.events[before:] == [
        PasswordChanged(occurred_at=app.clock.now(), user_id=caller.user_id),
        SessionRevoked(
            occurred_at=app.clock.now(),
            user_id=caller.user_id,
            session_id=other.session_id,
            reason="password_changed",
        ),
    ]


async def test_a_wrong_current_password_changes_nothing(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(InvalidCurrentPasswordError) as caught:
        await app.change_password.execute(
            ada,
            ChangePasswordCommand(current_password="not my password", new_password=NEW_PASSWORD),
        )
    assert caught.value.code == "bad_request"
    assert caught.value.detail_type == "invalid_current_password"
    await app.log_in_as("ada")
    assert "PasswordChanged" not in app.event_names()


async def test_a_password_less_account_has_no_current_password(app: App) -> None:
    ada = await app.signed_in("ada")
    await app.change_stored_user(ada.user_id, lambda u: setattr(u, "password_hash", None))
    with pytest.raises(InvalidCurrentPasswordError):
        await app.change_password.execute(
            ada, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
        )


async def test_a_weak_new_password_is_refused_before_any_hash(app: App) -> None:
    ada = await app.signed_in("ada")
    work = app.hasher.hash_work
    with pytest.raises(WeakPasswordError) as caught:
        await app.change_password.execute(
            ada, ChangePasswordCommand(current_password=PASSWORD, new_password="short")
        )
    assert caught.value.field == "new_password"
    assert app.hasher.hash_work == work


async def test_a_concurrent_password_change_wins_and_this_one_writes_nothing(app: App) -> None:
    await app.sign_up("ada")
    stale = await app.principal_for(await app.log_in_as("ada"))
    other = await app.principal_for(await app.log_in_as("ada"))
    await app.change_password.execute(
        other, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    published = len(app.events.events)

    # The password is checked against the stored hash, not the caller's older copy.
    with pytest.raises(InvalidCurrentPasswordError):
        await app.change_password.execute(
            stale, ChangePasswordCommand(current_password=PASSWORD, new_password="third password!")
        )
    await app.log_in_as("ada", password=NEW_PASSWORD)
    assert "PasswordChanged" not in app.event_names()[published:]
    assert app.event_names()[-1] == "UserLoggedIn"


async def test_a_password_changed_while_hashing_the_new_one_is_a_conflict(app: App) -> None:
    ada = await app.signed_in("ada")
    elsewhere = await app.hasher.hash("changed elsewhere")

    async def the_password_changes_elsewhere() -> None:
        await app.change_stored_user(
            ada.user_id, lambda u: u.change_password(elsewhere, now=app.clock.now())
        )

    app.hasher.during_hash = the_password_changes_elsewhere
    with pytest.raises(ConcurrentUpdateError):
        await app.change_password.execute(
            ada, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
        )
    await app.log_in_as("ada", password="changed elsewhere")


async def test_a_password_change_for_a_deleted_account_is_a_conflict(app: App) -> None:
    ada = await app.signed_in("ada")
    async with app.uow() as uow:
        await uow.users.delete(ada.user_id)
        await uow.commit()
    with pytest.raises(ConcurrentUpdateError):
        await app.change_password.execute(
            ada, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
        )


async def test_a_store_outage_does_not_undo_a_password_change(
    make_app: Callable[..., App],
) -> None:
    app = make_app(revocations=UnavailableRevocationStore())
    user = await app.sign_up("ada")
    here, other = await app.log_in_as("ada"), await app.log_in_as("ada")
    await app.change_password.execute(
        Principal(user=user, permissions=frozenset(), session_id=here.session_id),
        ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD),
    )
    session = await app.stored_session(other.session_id)
    assert session is not None
    assert session.revoked_reason == "password_changed"
    await app.log_in_as("ada", password=NEW_PASSWORD)


# --- ListOwnSessions / RevokeOwnSession ---------------------------------------------------


async def test_a_user_lists_their_active_sessions_newest_first(app: App) -> None:
    await app.sign_up("ada")
    await app.signed_in("bob")
    old = await app.log_in_as("ada", user_agent="old phone")
    app.clock.advance(seconds=1)
    ended = await app.log_in_as("ada")
    app.clock.advance(seconds=1)
    here = await app.log_in_as("ada", user_agent="laptop")
    caller = await app.principal_for(here)
    await app.log_out.execute(await app.principal_for(ended))

    views = await app.list_own_sessions.execute(caller)

    assert [v.session.id for v in views] == [here.session_id, old.session_id]
    assert [v.current for v in views] == [True, False]
    assert [v.session.user_agent for v in views] == ["laptop", "old phone"]


async def test_expired_sessions_are_not_listed(app: App) -> None:
    await app.sign_up("ada")
    old = await app.log_in_as("ada")
    app.clock.advance(REFRESH_TTL - timedelta(seconds=1))
    here = await app.principal_for(await app.log_in_as("ada"))
    assert len(await app.list_own_sessions.execute(here)) == 2
    app.clock.advance(seconds=1)
    views = await app.list_own_sessions.execute(here)
    assert [v.session.id for v in views] == [here.session_id]
    assert old.session_id not in {v.session.id for v in views}


async def test_a_user_ends_one_of_their_other_sessions(app: App) -> None:
    await app.sign_up("ada")
    lost_phone = await app.log_in_as("ada")
    here = await app.principal_for(await app.log_in_as("ada"))

    await app.revoke_own_session.execute(here, lost_phone.session_id)

    with pytest.raises(InvalidTokenError):
        await app.principal_for(lost_phone)
    assert await app.revocations.is_session_revoked(lost_phone.session_id)
    assert [v.session.id for v in await app.list_own_sessions.execute(here)] == [here.session_id]
    assert app.events.events[-1] == SessionRevoked(
        occurred_at=app.clock.now(),
        user_id=here.user_id,
        session_id=lost_phone.session_id,
        reason="revoked_by_user",
    )


async def test_another_users_session_is_not_found_like_an_unknown_one(app: App) -> None:
    ada = await app.signed_in("ada")
    bob = await app.signed_in("bob")
    with pytest.raises(SessionNotFoundError) as foreign:
        await app.revoke_own_session.execute(ada, bob.session_id)
    with pytest.raises(SessionNotFoundError) as unknown:
        await app.revoke_own_session.execute(ada, UUID(int=12345))
    assert (foreign.value.code, str(foreign.value)) == (unknown.value.code, str(unknown.value))
    session = await app.stored_session(bob.session_id)
    assert session is not None
    assert session.revoked_at is None


async def test_an_ended_session_cannot_be_ended_again(app: App) -> None:
    await app.sign_up("ada")
    other = await app.log_in_as("ada")
    here = await app.principal_for(await app.log_in_as("ada"))
    await app.revoke_own_session.execute(here, other.session_id)
    with pytest.raises(SessionNotFoundError):
        await app.revoke_own_session.execute(here, other.session_id)
