"""Contract of `SessionRepository`, identical on every adapter."""

import asyncio
from datetime import timedelta

import pytest

from application.errors import SessionNotFoundError
from domain.identity.session import RefreshTokenRecord
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_session,
    make_token,
    make_user,
    store_sessions,
    store_users,
)


async def test_a_stored_session_reads_back_field_for_field(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user, created_at=T0.astimezone(PLUS_TWO))
    bare = make_session(user)
    bare.ip = bare.user_agent = None
    await store_sessions(backend, session, bare)

    async with backend.new_uow() as uow:
        found = await uow.sessions.get(session.id)
        found_bare = await uow.sessions.get(bare.id)
        assert await uow.sessions.get(make_session(user).id) is None

    assert found is not None
    assert found_bare is not None
    assert_same_fields(session, found)
    assert_same_fields(bare, found_bare)


async def test_session_changes_count_only_once_passed_to_update(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user)
    await store_sessions(backend, session)

    async with backend.new_uow() as uow:
        loaded = await uow.sessions.get(session.id)
        assert loaded is not None
        loaded.revoke(now=T0 + timedelta(hours=1), reason="logout")  # not passed on
        await uow.commit()
    async with backend.new_uow() as uow:
        loaded = await uow.sessions.get(session.id)
        assert loaded is not None
        assert loaded.revoked_at is None
        loaded.refreshed(now=T0 + timedelta(hours=2), expires_at=T0 + timedelta(days=31))
        loaded.revoke(now=T0 + timedelta(hours=3), reason="logout")
        await uow.sessions.update(loaded)
        await uow.commit()
    async with backend.new_uow() as uow:
        saved = await uow.sessions.get(session.id)

    assert saved is not None
    assert_same_fields(loaded, saved)
    assert saved.revoked_reason == "logout"


async def test_updating_an_unknown_session_fails(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    with pytest.raises(SessionNotFoundError):
        async with backend.new_uow() as uow:
            await uow.sessions.update(make_session(user))


async def test_active_sessions_are_unrevoked_unexpired_and_newest_first(
    backend: Backend,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    now = T0 + timedelta(days=1)
    oldest = make_session(alice, created_at=T0)
    newest = make_session(alice, created_at=T0 + timedelta(hours=5))
    middle = make_session(alice, created_at=T0 + timedelta(hours=2))
    revoked = make_session(alice, created_at=T0 + timedelta(hours=3), revoked_at=T0)
    expired = make_session(alice, created_at=T0, expires_in=timedelta(hours=1))
    expiring_now = make_session(alice, created_at=T0, expires_in=timedelta(days=1))
    other_user = make_session(bob, created_at=T0 + timedelta(hours=4))
    await store_sessions(
        backend, oldest, newest, middle, revoked, expired, expiring_now, other_user
    )

    async with backend.new_uow() as uow:
        active = await uow.sessions.list_active_for_user(alice.id, now=now)

    assert [s.id for s in active] == [newest.id, middle.id, oldest.id]
    assert_same_fields(newest, active[0])


async def test_revoking_all_of_a_users_sessions_ends_only_their_live_ones(
    backend: Backend,
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    now = T0 + timedelta(days=1)
    live = [make_session(alice, created_at=T0), make_session(alice, created_at=T0)]
    earlier = make_session(alice, created_at=T0, revoked_at=T0)
    expired = make_session(alice, created_at=T0, expires_in=timedelta(hours=1))
    bobs = make_session(bob, created_at=T0)
    await store_sessions(backend, *live, earlier, expired, bobs)

    async with backend.new_uow() as uow:
        ended = await uow.sessions.revoke_all_for_user(alice.id, now=now, reason="by_admin")
        await uow.commit()
    async with backend.new_uow() as uow:
        again = await uow.sessions.revoke_all_for_user(alice.id, now=now, reason="by_admin")
        stored = {s.id: await uow.sessions.get(s.id) for s in (*live, earlier, expired, bobs)}

    assert sorted(ended) == sorted(s.id for s in live)
    assert again == []
    for session in live:
        ended_session = stored[session.id]
        assert ended_session is not None
        assert (ended_session.revoked_at, ended_session.revoked_reason) == (now, "by_admin")
    assert stored[earlier.id] is not None
    assert stored[earlier.id].revoked_at == T0  # type: ignore[union-attr]
    assert stored[expired.id].revoked_at is None  # type: ignore[union-attr]
    assert stored[bobs.id].revoked_at is None  # type: ignore[union-attr]


async def test_active_sessions_are_counted_across_users(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    now = T0 + timedelta(days=1)
    await store_sessions(
        backend,
        make_session(alice, created_at=T0),
        make_session(alice, created_at=T0.astimezone(PLUS_TWO)),
        make_session(bob, created_at=T0),
        make_session(alice, revoked_at=T0 + timedelta(hours=1)),
        make_session(bob, expires_in=timedelta(hours=1)),
        make_session(bob, expires_in=timedelta(days=1)),  # expires exactly now
    )

    async with backend.new_uow() as uow:
        # A revoked session stays revoked whatever the time; the others all still run.
        assert await uow.sessions.count_active(now=T0 - timedelta(seconds=1)) == 5
        assert await uow.sessions.count_active(now=now) == 3
        assert await uow.sessions.count_active(now=now.astimezone(PLUS_TWO)) == 3
        assert await uow.sessions.count_active(now=T0 + timedelta(days=31)) == 0


async def test_no_sessions_count_as_zero(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        assert await uow.sessions.count_active(now=T0) == 0


async def test_refresh_token_round_trip(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user)
    token = make_token(session)
    await store_sessions(backend, session, tokens=(token,))

    async with backend.new_uow() as uow:
        found = await uow.sessions.get_refresh_token(token.token_hash)
        assert await uow.sessions.get_refresh_token("0" * 64) is None

    assert found == token
    assert found is not None
    assert found.created_at.utcoffset() == timedelta(0)


async def test_a_refresh_token_rotates_once(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user)
    token = make_token(session)
    await store_sessions(backend, session, tokens=(token,))
    when = T0 + timedelta(minutes=10)

    async with backend.new_uow() as uow:
        assert await uow.sessions.get_refresh_token(token.token_hash) == token  # cached
        assert await uow.sessions.mark_refresh_token_rotated(token.token_hash, now=when)
        assert not await uow.sessions.mark_refresh_token_rotated(token.token_hash, now=when)
        seen = await uow.sessions.get_refresh_token(token.token_hash)
        assert seen is not None
        assert seen.rotated_at == when
        await uow.commit()

    async with backend.new_uow() as uow:
        assert not await uow.sessions.mark_refresh_token_rotated(token.token_hash, now=when)
        assert not await uow.sessions.mark_refresh_token_rotated("f" * 64, now=when)
        stored = await uow.sessions.get_refresh_token(token.token_hash)
    assert stored is not None
    assert stored.rotated_at == when


async def test_an_uncommitted_rotation_does_not_count(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user)
    token = make_token(session)
    await store_sessions(backend, session, tokens=(token,))

    async with backend.new_uow() as uow:
        assert await uow.sessions.mark_refresh_token_rotated(token.token_hash, now=T0)
    async with backend.new_uow() as uow:
        assert await uow.sessions.mark_refresh_token_rotated(token.token_hash, now=T0)


async def test_racing_rotations_succeed_exactly_once(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    session = make_session(user)
    token = make_token(session)
    await store_sessions(backend, session, tokens=(token,))

    async def refresh(i: int) -> bool:
        async with backend.new_uow() as uow:
            record = await uow.sessions.get_refresh_token(token.token_hash)
            assert record is not None
            await asyncio.sleep(0)  # let every contender read the token unrotated
            rotated = await uow.sessions.mark_refresh_token_rotated(
                token.token_hash, now=T0 + timedelta(seconds=i)
            )
            if rotated:
                await uow.sessions.add_refresh_token(
                    RefreshTokenRecord(
                        token_hash=f"{i:064d}",
                        session_id=session.id,
                        created_at=T0,
                        expires_at=T0 + timedelta(days=1),
                    )
                )
            await uow.commit()
            return rotated

    results = await asyncio.gather(*(refresh(i) for i in range(8)))

    assert results.count(True) == 1
    winner = results.index(True)
    async with backend.new_uow() as uow:
        stored = await uow.sessions.get_refresh_token(token.token_hash)
        successor = await uow.sessions.get_refresh_token(f"{winner:064d}")
    assert stored is not None
    assert stored.rotated_at == T0 + timedelta(seconds=winner)
    assert successor is not None
