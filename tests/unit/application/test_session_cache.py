"""A warm cache answers authenticated requests without reading the session row, and never
serves a session that has since ended or moved: every such write reaches the cache.

The revocation store is down in these tests, so it cannot be what refuses: only the
cached session state (and the database behind it) decides.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest

from application.common.security import Principal
from application.errors import InvalidTokenError, RefreshTokenReuseError
from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.identity.session import AuthSession
from tests.unit.application.conftest import ADMIN_EMAIL, PASSWORD, REFRESH_TTL, App
from tests.unit.application.fakes import UnavailableRevocationStore


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    return make_app(revocations=UnavailableRevocationStore())


async def test_a_warm_request_reads_no_session_row(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.principal_for(pair)  # warms the cache
    del app.store.committed.sessions[pair.session_id]  # the row is not read again
    assert (await app.principal_for(pair)).session_id == pair.session_id


async def test_a_logout_ends_a_warm_session_at_once(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    caller = await app.principal_for(pair)
    await app.log_out.execute(caller)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_logging_out_everywhere_ends_the_other_warm_sessions(app: App) -> None:
    await app.sign_up("ada")
    phone, laptop = await app.log_in_as("ada"), await app.log_in_as("ada")
    await app.principal_for(phone)
    await app.log_out_everywhere.execute(await app.principal_for(laptop))
    with pytest.raises(InvalidTokenError):
        await app.principal_for(phone)


async def test_a_password_change_ends_the_other_warm_sessions(app: App) -> None:
    await app.sign_up("ada")
    here, other = await app.log_in_as("ada"), await app.log_in_as("ada")
    await app.principal_for(other)
    await app.change_password.execute(
        await app.principal_for(here),
        ChangePasswordCommand(current_password=PASSWORD, new_password="a brand new passphrase"),
    )
    with pytest.raises(InvalidTokenError):
        await app.principal_for(other)
    assert (await app.principal_for(here)).session_id == here.session_id


async def test_a_deactivation_ends_a_warm_session(app: App) -> None:
    ada = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.principal_for(pair)
    await app.update_user.execute(await admin(app), ada.id, UpdateUserCommand(is_active=False))
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)


async def test_a_reused_refresh_token_ends_the_warm_session(app: App) -> None:
    await app.sign_up("ada")
    first = await app.log_in_as("ada")
    second = await app.refresh_session.execute(
        RefreshSessionCommand(refresh_token=first.refresh_token)
    )
    await app.principal_for(second)
    with pytest.raises(RefreshTokenReuseError):
        await app.refresh_session.execute(RefreshSessionCommand(refresh_token=first.refresh_token))
    with pytest.raises(InvalidTokenError):
        await app.principal_for(second)


async def test_a_refresh_moves_the_expiry_a_warm_cache_holds(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    async with app.uow() as uow:  # a session close to its end
        session = await uow.sessions.get(pair.session_id)
        assert session is not None
        session.expires_at = app.clock.now() + timedelta(minutes=10)
        await uow.sessions.update(session)
        await uow.commit()
    await app.principal_for(pair)  # cached with that expiry
    pair = await app.refresh_session.execute(
        RefreshSessionCommand(refresh_token=pair.refresh_token)
    )
    app.clock.advance(timedelta(minutes=11))  # past the expiry cached before the refresh
    assert (await app.principal_for(pair)).session_id == pair.session_id
    stored: AuthSession | None = await app.stored_session(pair.session_id)
    assert stored is not None
    assert stored.expires_at == app.clock.now() - timedelta(minutes=11) + REFRESH_TTL


async def admin(app: App) -> Principal:
    await app.bootstrap_admin.execute(
        BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD, username="root")
    )
    return await app.principal_for(await app.log_in_as("root"))
