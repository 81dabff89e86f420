"""Ending sessions: log out, log out everywhere, RFC 7009 revocation, and the announcement
of revoked sessions to every instance (which may fail without undoing the revocation)."""

from collections.abc import Callable

import pytest

from application.common.security import Principal
from application.errors import InvalidTokenError
from application.identity.revocation import SessionRevoker
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from application.identity.use_cases.revoke_token import RevokeTokenCommand
from domain.identity.events import SessionRevoked
from tests.unit.application.conftest import App
from tests.unit.application.fakes import UnavailableRevocationStore

# --- LogOut ----------------------------------------------------------------------------


async def test_logging_out_ends_the_current_session_only(app: App) -> None:
    await app.sign_up("ada")
    phone, laptop = await app.log_in_as("ada"), await app.log_in_as("ada")
    await app.log_out.execute(await app.principal_for(phone))

    with pytest.raises(InvalidTokenError):
        await app.principal_for(phone)
    with pytest.raises(InvalidTokenError):
        await app.refresh_session.execute(RefreshSessionCommand(refresh_token=phone.refresh_token))
    assert (await app.principal_for(laptop)).session_id == laptop.session_id
    assert await app.revocations.is_session_revoked(phone.session_id)
    session = await app.stored_session(phone.session_id)
    assert session is not None
    assert session.revoked_reason == "logout"
    assert app.events.events[-1] == SessionRevoked(
        occurred_at=app.clock.now(),
        user_id=session.user_id,
        session_id=phone.session_id,
        reason="logout",
    )


async def test_logging_out_twice_is_harmless_and_announces_once(app: App) -> None:
    principal = await app.signed_in("ada")
    await app.log_out.execute(principal)
    published = len(app.events.events)
    await app.log_out.execute(principal)
    assert len(app.events.events) == published


async def test_logging_out_everywhere_ends_every_session_of_the_caller_only(app: App) -> None:
    await app.sign_up("ada")
    ada_pairs = [await app.log_in_as("ada") for _ in range(3)]
    bob = await app.signed_in("bob")
    await app.log_out_everywhere.execute(await app.principal_for(ada_pairs[0]))

    for pair in ada_pairs:
        with pytest.raises(InvalidTokenError):
            await app.principal_for(pair)
        assert await app.revocations.is_session_revoked(pair.session_id)
    assert not await app.revocations.is_session_revoked(bob.session_id)
    revoked = [e for e in app.events.events if isinstance(e, SessionRevoked)]
    assert {e.session_id for e in revoked} == {p.session_id for p in ada_pairs}
    assert {e.reason for e in revoked} == {"logout_all"}


# --- RevokeToken ------------------------------------------------------------------------


async def test_revoking_a_refresh_token_ends_its_session(app: App) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.revoke_token.execute(RevokeTokenCommand(token=pair.refresh_token))
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)
    session = await app.stored_session(pair.session_id)
    assert session is not None
    assert session.revoked_reason == "revoked"
    assert await app.revocations.is_session_revoked(pair.session_id)


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
async def test_revoking_an_access_token_ends_its_session(app: App, hint: str | None) -> None:
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.revoke_token.execute(
        RevokeTokenCommand(token=pair.access_token, token_type_hint=hint)
    )
    with pytest.raises(InvalidTokenError):
        await app.refresh_session.execute(RefreshSessionCommand(refresh_token=pair.refresh_token))
    assert isinstance(app.events.events[-1], SessionRevoked)


@pytest.mark.parametrize("token", ["", "hxr_unknown", "not.a.jwt", "eyJhbGciOiJub25lIn0.e30."])
async def test_an_unknown_or_invalid_token_is_silently_accepted(app: App, token: str) -> None:
    principal = await app.signed_in("ada")
    published = len(app.events.events)
    await app.revoke_token.execute(RevokeTokenCommand(token=token))
    assert len(app.events.events) == published
    session = await app.stored_session(principal.session_id)
    assert session is not None
    assert session.revoked_at is None


async def test_revoking_an_already_revoked_or_vanished_session_is_silent(app: App) -> None:
    admin = await app.admin()
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    await app.revoke_token.execute(RevokeTokenCommand(token=pair.refresh_token))
    published = len(app.events.events)
    await app.revoke_token.execute(RevokeTokenCommand(token=pair.access_token))
    assert len(app.events.events) == published

    other = await app.log_in_as("ada")
    await app.delete_user.execute(admin, (await app.principal_for(other)).user_id)
    await app.revoke_token.execute(RevokeTokenCommand(token=other.access_token))


# --- SessionRevoker ----------------------------------------------------------------------


async def test_announcing_nothing_does_not_touch_the_store() -> None:
    store = UnavailableRevocationStore()
    await SessionRevoker(store, ttl_seconds=60).announce([])
    assert store.attempts == 0


async def test_a_store_outage_does_not_undo_a_logout(make_app: Callable[..., App]) -> None:
    store = UnavailableRevocationStore()
    app = make_app(revocations=store)
    user = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    # Authenticate itself needs the store, so the caller is built by hand here.
    await app.log_out.execute(
        Principal(user=user, permissions=frozenset(), session_id=pair.session_id)
    )

    assert store.attempts == 1
    session = await app.stored_session(pair.session_id)
    assert session is not None
    assert session.revoked_reason == "logout"
    assert isinstance(app.events.events[-1], SessionRevoked)


async def test_with_the_store_down_authentication_relies_on_the_session_row(
    make_app: Callable[..., App],
) -> None:
    store = UnavailableRevocationStore()
    app = make_app(revocations=store)
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    caller = await app.principal_for(pair)
    assert caller.session_id == pair.session_id
    assert store.attempts == 1  # asked, and its failure did not decide

    await app.log_out.execute(caller)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(pair)
