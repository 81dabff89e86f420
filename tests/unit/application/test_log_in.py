"""LogIn: who may open a session, what it costs, and what a session starts with."""

from collections.abc import Callable

import pytest

from adapters.memory.password_hasher import FakePasswordHasher
from application.errors import InvalidCredentialsError
from application.identity.use_cases.log_in import LogInCommand
from domain.identity.events import LoginFailed, UserLoggedIn
from tests.unit.application.conftest import ACCESS_TTL, PASSWORD, REFRESH_TTL, App
from tests.unit.application.fakes import CountingPasswordHasher


@pytest.mark.parametrize("login", ["ada", "ADA", "ada@example.com", " Ada@Example.com "])
async def test_a_user_logs_in_with_username_or_email_in_any_case(app: App, login: str) -> None:
    user = await app.sign_up("ada")
    pair = await app.log_in_as(login)
    principal = await app.principal_for(pair)
    assert principal.user_id == user.id
    assert principal.session_id == pair.session_id


async def test_a_login_returns_a_bearer_pair_with_both_lifetimes(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    assert pair.token_type == "bearer"
    assert pair.expires_in == ACCESS_TTL.total_seconds()
    assert pair.refresh_expires_in == REFRESH_TTL.total_seconds()
    assert pair.refresh_token.startswith("hxr_")
    assert pair.access_token != pair.refresh_token


async def test_a_login_opens_a_session_and_stamps_last_login(app: App) -> None:
    user = await app.sign_up("ada")
    app.clock.advance(seconds=30)
    pair = await app.log_in.execute(
        LogInCommand(login="ada", password=PASSWORD, ip="203.0.113.9", user_agent="x" * 600)
    )
    session = await app.stored_session(pair.session_id)
    assert session is not None
    assert session.user_id == user.id
    assert session.created_at == session.last_used_at == app.clock.now()
    assert session.expires_at == app.clock.now() + REFRESH_TTL
    assert session.ip == "203.0.113.9"
    assert session.user_agent == "x" * 512, "user agents are clipped to 512 characters"
    stored = await app.stored_user(user.id)
    assert stored is not None
    assert stored.last_login_at == app.clock.now()
    assert app.events.events[-1] == UserLoggedIn(
        occurred_at=app.clock.now(), user_id=user.id, session_id=pair.session_id
    )


async def test_each_login_is_a_separate_session(app: App) -> None:
    await app.sign_up("ada")
    first, second = await app.log_in_as("ada"), await app.log_in_as("ada")
    assert first.session_id != second.session_id
    assert first.refresh_token != second.refresh_token


async def test_a_wrong_password_is_refused_and_announced(app: App) -> None:
    user = await app.sign_up("ada")
    with pytest.raises(InvalidCredentialsError) as caught:
        await app.log_in_as("ada", password="wrong password!")
    assert caught.value.code == "invalid_credentials"
    assert app.events.events[-1] == LoginFailed(occurred_at=app.clock.now(), user_id=user.id)
    async with app.uow() as uow:
        assert await uow.sessions.list_active_for_user(user.id, now=app.clock.now()) == []


@pytest.mark.parametrize("login", ["nobody", "nobody@example.com", "not an @ email", "x"])
async def test_an_unknown_account_fails_alike_and_still_costs_one_hash(
    app: App, login: str
) -> None:
    await app.sign_up("ada")
    with pytest.raises(InvalidCredentialsError) as unknown:
        await app.log_in_as(login)
    with pytest.raises(InvalidCredentialsError) as wrong:
        await app.log_in_as("ada", password="wrong password!")
    assert str(unknown.value) == str(wrong.value)
    assert app.hasher.calls["verify_dummy"] == 1
    assert app.hasher.calls["verify"] == 1
    assert app.events.events[-2] == LoginFailed(occurred_at=app.clock.now(), user_id=None)


async def test_a_password_less_account_cannot_log_in_and_costs_one_hash(app: App) -> None:
    user = await app.sign_up("ada")
    await app.change_stored_user(user.id, lambda u: setattr(u, "password_hash", None))
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")
    assert app.hasher.hash_work == 1


async def test_an_inactive_account_is_refused_even_with_the_right_password(app: App) -> None:
    user = await app.sign_up("ada")
    await app.change_stored_user(user.id, lambda u: u.update(now=app.clock.now(), is_active=False))
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")
    # The audit trail learns why; the caller never does.
    assert app.events.events[-1] == LoginFailed(
        occurred_at=app.clock.now(), user_id=user.id, reason="inactive"
    )


async def test_a_weak_hash_is_upgraded_on_login(make_app: Callable[..., App]) -> None:
    app = make_app(hasher=CountingPasswordHasher(cost=2))
    user = await app.sign_up("ada")
    weak = await FakePasswordHasher(cost=1).hash(PASSWORD)
    await app.change_stored_user(user.id, lambda u: u.upgrade_password_hash(weak))

    await app.log_in_as("ada")

    stored = await app.stored_user(user.id)
    assert stored is not None
    assert stored.password_hash != weak
    assert stored.password_hash is not None
    assert not app.hasher.needs_rehash(stored.password_hash)
    assert await app.hasher.verify(stored.password_hash, PASSWORD)
    assert stored.updated_at == user.updated_at, "an upgrade is not a change the user made"


async def test_a_current_hash_is_left_alone_on_login(app: App) -> None:
    user = await app.sign_up("ada")
    await app.log_in_as("ada")
    stored = await app.stored_user(user.id)
    assert stored is not None
    assert stored.password_hash == user.password_hash
    assert app.hasher.calls["hash"] == 1  # the registration's only


async def test_an_account_deactivated_during_the_hash_check_is_refused(app: App) -> None:
    user = await app.sign_up("ada")

    async def an_admin_deactivates_ada() -> None:
        await app.change_stored_user(
            user.id, lambda u: u.update(now=app.clock.now(), is_active=False)
        )

    app.hasher.during_verify = an_admin_deactivates_ada
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")
    async with app.uow() as uow:
        assert await uow.sessions.list_active_for_user(user.id, now=app.clock.now()) == []


async def test_a_password_changed_during_the_hash_check_refuses_the_old_one(app: App) -> None:
    user = await app.sign_up("ada")
    new_hash = await FakePasswordHasher().hash("a brand new password")

    async def the_password_changes_elsewhere() -> None:
        await app.change_stored_user(
            user.id, lambda u: u.change_password(new_hash, now=app.clock.now())
        )

    app.hasher.during_verify = the_password_changes_elsewhere
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")
    async with app.uow() as uow:
        assert await uow.sessions.list_active_for_user(user.id, now=app.clock.now()) == []


async def test_an_account_deleted_during_the_hash_check_is_refused(app: App) -> None:
    user = await app.sign_up("ada")

    async def the_account_is_deleted() -> None:
        async with app.uow() as uow:
            await uow.users.delete(user.id)
            await uow.commit()

    app.hasher.during_verify = the_account_is_deleted
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")


async def test_a_hash_upgraded_by_a_concurrent_login_still_admits_the_right_password(
    app: App,
) -> None:
    user = await app.sign_up("ada")
    same_password_new_salt = await FakePasswordHasher().hash(PASSWORD)

    async def another_login_upgrades_the_hash() -> None:
        await app.change_stored_user(
            user.id, lambda u: u.upgrade_password_hash(same_password_new_salt)
        )

    app.hasher.during_verify = another_login_upgrades_the_hash
    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user_id == user.id
    assert app.hasher.calls["verify"] == 2  # checked again against the new hash
