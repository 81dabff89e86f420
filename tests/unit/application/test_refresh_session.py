"""RefreshSession: single-use rotation, theft detection, expiry and sliding lifetime."""

from datetime import timedelta

import pytest

from application.errors import InvalidTokenError, RefreshTokenReuseError
from application.identity.token_pairs import TokenPair
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from domain.identity.events import RefreshReuseDetected, SessionRefreshed, SessionRevoked
from tests.unit.application.conftest import ACCESS_TTL, REFRESH_TTL, App


async def refresh(app: App, pair: TokenPair) -> TokenPair:
    return await app.refresh_session.execute(
        RefreshSessionCommand(refresh_token=pair.refresh_token)
    )


async def logged_in(app: App) -> TokenPair:
    await app.sign_up("ada")
    return await app.log_in_as("ada")


async def test_a_refresh_returns_a_new_pair_for_the_same_session(app: App) -> None:
    first = await logged_in(app)
    app.clock.advance(seconds=60)
    second = await refresh(app, first)
    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    principal = await app.principal_for(second)
    assert principal.session_id == first.session_id


async def test_the_new_refresh_token_works_in_turn(app: App) -> None:
    pair = await logged_in(app)
    for _ in range(3):
        app.clock.advance(seconds=1)
        pair = await refresh(app, pair)
    assert (await app.principal_for(pair)).session_id == pair.session_id


async def test_each_rotation_slides_the_session_expiry(app: App) -> None:
    first = await logged_in(app)
    app.clock.advance(REFRESH_TTL - timedelta(hours=1))
    second = await refresh(app, first)
    assert second.refresh_expires_in == REFRESH_TTL.total_seconds()
    session = await app.stored_session(first.session_id)
    assert session is not None
    assert session.expires_at == app.clock.now() + REFRESH_TTL
    assert session.last_used_at == app.clock.now()
    app.clock.advance(timedelta(hours=2))  # past the original expiry
    await refresh(app, second)
    assert isinstance(app.events.events[-1], SessionRefreshed)


async def test_an_unknown_refresh_token_is_refused(app: App) -> None:
    await logged_in(app)
    with pytest.raises(InvalidTokenError) as caught:
        await app.refresh_session.execute(RefreshSessionCommand(refresh_token="hxr_forged"))
    assert caught.value.code == "invalid_token"


async def test_a_refresh_token_expires_with_its_session(app: App) -> None:
    pair = await logged_in(app)
    app.clock.advance(REFRESH_TTL - timedelta(seconds=1))
    still_good = await refresh(app, pair)
    app.clock.advance(REFRESH_TTL)
    with pytest.raises(InvalidTokenError) as caught:
        await refresh(app, still_good)
    assert not isinstance(caught.value, RefreshTokenReuseError)


async def test_an_expired_refresh_is_refused_at_the_exact_instant(app: App) -> None:
    pair = await logged_in(app)
    app.clock.advance(REFRESH_TTL)
    with pytest.raises(InvalidTokenError):
        await refresh(app, pair)


async def test_an_expired_refresh_does_not_burn_the_token_as_a_reuse(app: App) -> None:
    pair = await logged_in(app)
    app.clock.advance(REFRESH_TTL)
    for _ in range(2):
        with pytest.raises(InvalidTokenError) as caught:
            await refresh(app, pair)
        assert not isinstance(caught.value, RefreshTokenReuseError)


async def test_a_reused_refresh_token_revokes_the_whole_session(app: App) -> None:
    first = await logged_in(app)
    newest = await refresh(app, first)
    app.clock.advance(seconds=5)

    with pytest.raises(RefreshTokenReuseError) as caught:
        await refresh(app, first)
    assert caught.value.code == "invalid_token"

    session = await app.stored_session(first.session_id)
    assert session is not None
    assert session.revoked_reason == "refresh_reuse"
    assert session.revoked_at == app.clock.now()
    assert await app.revocations.is_session_revoked(first.session_id)
    with pytest.raises(InvalidTokenError):
        await refresh(app, newest)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(newest)
    assert [type(e) for e in app.events.events[-2:]] == [RefreshReuseDetected, SessionRevoked]


async def test_reuse_on_an_already_revoked_session_is_refused_without_new_events(
    app: App,
) -> None:
    first = await logged_in(app)
    await refresh(app, first)
    with pytest.raises(RefreshTokenReuseError):
        await refresh(app, first)
    published = len(app.events.events)
    with pytest.raises(RefreshTokenReuseError):
        await refresh(app, first)
    assert len(app.events.events) == published


async def test_the_revocation_announcement_outlives_every_access_token(app: App) -> None:
    first = await logged_in(app)
    await refresh(app, first)
    with pytest.raises(RefreshTokenReuseError):
        await refresh(app, first)
    app.clock.advance(ACCESS_TTL - timedelta(seconds=1))
    assert await app.revocations.is_session_revoked(first.session_id)
    app.clock.advance(seconds=1)
    assert not await app.revocations.is_session_revoked(first.session_id)


async def test_a_refresh_for_a_deactivated_user_is_refused(app: App) -> None:
    pair = await logged_in(app)
    principal = await app.principal_for(pair)
    await app.change_stored_user(
        principal.user_id, lambda u: u.update(now=app.clock.now(), is_active=False)
    )
    with pytest.raises(InvalidTokenError):
        await refresh(app, pair)


async def test_a_refresh_after_logout_is_refused(app: App) -> None:
    pair = await logged_in(app)
    await app.log_out.execute(await app.principal_for(pair))
    with pytest.raises(InvalidTokenError) as caught:
        await refresh(app, pair)
    assert not isinstance(caught.value, RefreshTokenReuseError)


async def test_a_refresh_for_a_deleted_user_is_refused(app: App) -> None:
    admin = await app.admin()
    pair = await logged_in(app)
    await app.delete_user.execute(admin, (await app.principal_for(pair)).user_id)
    with pytest.raises(InvalidTokenError):
        await refresh(app, pair)


async def test_a_second_use_within_the_grace_is_a_race_not_a_theft(make_app) -> None:  # type: ignore[no-untyped-def]
    app: App = make_app(reuse_grace=timedelta(seconds=2))
    first = await logged_in(app)
    winner = await refresh(app, first)
    app.clock.advance(seconds=2)

    with pytest.raises(InvalidTokenError) as caught:
        await refresh(app, first)
    assert not isinstance(caught.value, RefreshTokenReuseError)
    assert not await app.revocations.is_session_revoked(first.session_id)
    assert (await app.principal_for(winner)).session_id == first.session_id
    await refresh(app, winner)  # the session lives on


async def test_a_second_use_after_the_grace_is_a_theft(make_app) -> None:  # type: ignore[no-untyped-def]
    app: App = make_app(reuse_grace=timedelta(seconds=2))
    first = await logged_in(app)
    winner = await refresh(app, first)
    app.clock.advance(seconds=3)

    with pytest.raises(RefreshTokenReuseError):
        await refresh(app, first)
    with pytest.raises(InvalidTokenError):
        await app.principal_for(winner)
