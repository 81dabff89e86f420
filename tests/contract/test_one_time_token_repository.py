"""Contract of `OneTimeTokenRepository`, identical on every adapter."""

import asyncio
from dataclasses import replace
from datetime import timedelta

from domain.identity.one_time_tokens import TokenPurpose
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_one_time_token,
    make_user,
    store_users,
)


async def test_a_stored_token_reads_back_field_for_field(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    token = replace(
        make_one_time_token(user, purpose=TokenPurpose.VERIFY_EMAIL),
        created_at=T0.astimezone(PLUS_TWO),
    )
    used = replace(make_one_time_token(user), used_at=T0 + timedelta(minutes=1))
    async with backend.new_uow() as uow:
        await uow.one_time_tokens.add(token)
        await uow.one_time_tokens.add(used)
        await uow.commit()

    async with backend.new_uow() as uow:
        found = await uow.one_time_tokens.get(token.token_hash)
        found_used = await uow.one_time_tokens.get(used.token_hash)
        assert await uow.one_time_tokens.get("0" * 64) is None

    assert found == token
    assert found is not None
    assert found.created_at.utcoffset() == timedelta(0)
    assert type(found.purpose) is TokenPurpose
    assert found_used == used


async def test_mark_used_succeeds_once(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    token = make_one_time_token(user)
    async with backend.new_uow() as uow:
        await uow.one_time_tokens.add(token)
        await uow.commit()

    now = T0 + timedelta(minutes=5)
    async with backend.new_uow() as uow:
        assert await uow.one_time_tokens.mark_used(token.token_hash, now=now) is True
        seen_inside = await uow.one_time_tokens.get(token.token_hash)
        assert seen_inside is not None
        assert seen_inside.used_at == now
        assert await uow.one_time_tokens.mark_used(token.token_hash, now=now) is False
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.one_time_tokens.mark_used(token.token_hash, now=now) is False
        assert await uow.one_time_tokens.mark_used("0" * 64, now=now) is False
        stored = await uow.one_time_tokens.get(token.token_hash)
    assert stored == replace(token, used_at=now)
    assert not stored.is_usable(now)


async def test_a_rolled_back_use_leaves_the_token_usable(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    token = make_one_time_token(user)
    async with backend.new_uow() as uow:
        await uow.one_time_tokens.add(token)
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.one_time_tokens.mark_used(token.token_hash, now=T0) is True
    async with backend.new_uow() as uow:
        assert await uow.one_time_tokens.mark_used(token.token_hash, now=T0) is True


async def test_racing_uses_of_one_token_admit_exactly_one(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    token = make_one_time_token(user)
    async with backend.new_uow() as uow:
        await uow.one_time_tokens.add(token)
        await uow.commit()

    async def use(i: int) -> bool:
        async with backend.new_uow() as uow:
            await asyncio.sleep(0)  # let the others start their transactions too
            won = await uow.one_time_tokens.mark_used(
                token.token_hash, now=T0 + timedelta(seconds=i)
            )
            await asyncio.sleep(0.01)  # hold the row while the others arrive
            await uow.commit()
            return won

    outcomes = await asyncio.gather(*(use(i) for i in range(10)))
    assert sorted(outcomes) == [False] * 9 + [True]
