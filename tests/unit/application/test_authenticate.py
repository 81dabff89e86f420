"""Authenticate: every request's bearer token, checked against clock, store and database."""

from datetime import timedelta

import pytest

from application.errors import InvalidTokenError
from application.tokens.use_cases.authenticate import AuthenticateCommand
from tests.unit.application.conftest import ACCESS_TTL, App


async def test_a_fresh_access_token_yields_the_caller_as_stored_now(app: App) -> None:
    user = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.change_stored_user(user.id, lambda u: u.update(now=app.clock.now(), is_verified=True))
    principal = await app.principal_for(pair)
    assert principal.user_id == user.id
    assert principal.session_id == pair.session_id
    assert principal.user.is_verified, "the user is loaded fresh, not taken from the token"


async def test_an_access_token_works_until_the_second_it_expires(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    app.clock.advance(ACCESS_TTL - timedelta(seconds=1))
    await app.principal_for(pair)
    app.clock.advance(seconds=1)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "hxr_refresh-is-not-access"])
async def test_garbage_is_not_a_token(app: App, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=token))


async def test_a_refresh_token_is_not_an_access_token(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=pair.refresh_token))


async def test_a_session_announced_as_revoked_is_refused_at_once(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.revocations.revoke_sessions([pair.session_id], ttl_seconds=60)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_session_revoked_only_in_the_database_is_refused(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    async with app.uow() as uow:
        session = await uow.sessions.get(pair.session_id)
        assert session is not None
        session.revoke(now=app.clock.now(), reason="test")
        await uow.sessions.update(session)
        await uow.commit()
    assert not await app.revocations.is_session_revoked(pair.session_id)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_session_that_expired_refuses_tokens_it_minted(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    async with app.uow() as uow:  # a session ending before its access token does
        session = await uow.sessions.get(pair.session_id)
        assert session is not None
        session.expires_at = app.clock.now() + timedelta(seconds=30)
        await uow.sessions.update(session)
        await uow.commit()
    app.clock.advance(seconds=30)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_deleted_users_token_is_refused(app: App) -> None:
    user = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    async with app.uow() as uow:  # gone from the database, never announced to the store
        await uow.users.delete(user.id)
        await uow.commit()
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_token_for_a_user_that_never_existed_is_refused(app: App) -> None:
    ada = await app.signed_in("ada")
    forged = app.tokens.issue_access_token(subject=ada.session_id, session_id=ada.session_id)
    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=forged.token))


async def test_an_inactive_users_token_is_refused(app: App) -> None:
    user = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.change_stored_user(user.id, lambda u: u.update(now=app.clock.now(), is_active=False))
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_token_naming_someone_elses_session_is_refused(app: App) -> None:
    ada = await app.signed_in("ada")
    bob = await app.signed_in("bob")
    forged = app.tokens.issue_access_token(subject=ada.user_id, session_id=bob.session_id)
    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=forged.token))


async def test_a_token_for_an_unknown_session_is_refused(app: App) -> None:
    ada = await app.signed_in("ada")
    forged = app.tokens.issue_access_token(subject=ada.user_id, session_id=ada.user_id)
    with pytest.raises(InvalidTokenError):
        await app.authenticate.execute(AuthenticateCommand(access_token=forged.token))
