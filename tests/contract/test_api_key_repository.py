"""Contract of `ApiKeyRepository`, identical on every adapter."""

from datetime import timedelta

import pytest

from application.errors import ApiKeyNotFoundError, ConflictError
from domain.access.permissions import Permission
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_api_key,
    make_user,
    store_users,
)


async def test_a_stored_key_reads_back_field_for_field(backend: Backend) -> None:
    owner = make_user("alice")
    await store_users(backend, owner)
    key = make_api_key(
        owner,
        name="deploy bot",
        created_at=T0.astimezone(PLUS_TWO),
        scopes=frozenset({Permission.USERS_READ, Permission.AUDIT_READ}),
    )
    key.expires_at = (T0 + timedelta(days=90)).astimezone(PLUS_TWO)
    key.last_used_at = T0 + timedelta(minutes=3)
    key.revoked_at = T0 + timedelta(days=1)
    bare = make_api_key(owner, scopes=frozenset())  # every optional field empty
    async with backend.new_uow() as uow:
        await uow.api_keys.add(key)
        await uow.api_keys.add(bare)
        await uow.commit()

    async with backend.new_uow() as uow:
        by_id = await uow.api_keys.get(key.id)
        by_prefix = await uow.api_keys.get_by_prefix(key.prefix)
        bare_again = await uow.api_keys.get_by_prefix(bare.prefix)
        assert await uow.api_keys.get(make_api_key(owner).id) is None
        assert await uow.api_keys.get_by_prefix("nosuchprefix") is None

    for found in (by_id, by_prefix):
        assert found is not None
        assert_same_fields(key, found)
        assert found.pull_events() == []
    assert bare_again is not None
    assert_same_fields(bare, bare_again)


async def test_changes_count_only_once_passed_to_update(backend: Backend) -> None:
    owner = make_user("alice")
    await store_users(backend, owner)
    key = make_api_key(owner)
    async with backend.new_uow() as uow:
        await uow.api_keys.add(key)
        key.name = "changed after add"  # the stored copy must not follow
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.api_keys.get(key.id)
        assert loaded is not None
        assert loaded.name == "ci"
        loaded.revoke(now=T0 + timedelta(hours=1))  # not passed on
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.api_keys.get_by_prefix(key.prefix)
        assert loaded is not None
        assert loaded.revoked_at is None
        assert loaded.used(now=T0 + timedelta(minutes=5))
        loaded.revoke(now=T0 + timedelta(hours=1))
        loaded.name = "renamed"
        loaded.scopes = frozenset({Permission.API_KEYS_MANAGE})
        await uow.api_keys.update(loaded)
        seen_inside = await uow.api_keys.get(key.id)
        assert seen_inside is not None
        assert seen_inside.revoked_at == T0 + timedelta(hours=1)
        await uow.commit()

    async with backend.new_uow() as uow:
        saved = await uow.api_keys.get(key.id)
    assert saved is not None
    assert_same_fields(loaded, saved)
    assert not saved.is_usable(T0 + timedelta(hours=2))


async def test_update_of_an_unknown_key_is_not_found(backend: Backend) -> None:
    owner = make_user("alice")
    await store_users(backend, owner)
    async with backend.new_uow() as uow:
        with pytest.raises(ApiKeyNotFoundError):
            await uow.api_keys.update(make_api_key(owner))


async def test_a_taken_prefix_is_a_conflict(backend: Backend) -> None:
    owner = make_user("alice")
    await store_users(backend, owner)
    first = make_api_key(owner, prefix="hh_abcdef12")
    async with backend.new_uow() as uow:
        await uow.api_keys.add(first)
        await uow.commit()

    async with backend.new_uow() as uow:
        with pytest.raises(ConflictError):
            await uow.api_keys.add(make_api_key(owner, prefix="hh_abcdef12"))
        await uow.api_keys.add(make_api_key(owner, prefix="hh_other123"))  # still usable
        await uow.commit()

    async with backend.new_uow() as uow:
        found = await uow.api_keys.get_by_prefix("hh_abcdef12")
        listed = await uow.api_keys.list(owner_id=owner.id)
    assert found is not None
    assert found.id == first.id
    assert len(listed) == 2


async def test_list_is_newest_first_for_one_owner_or_everyone(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    keys = [
        make_api_key(alice, name="old", created_at=T0),
        make_api_key(bob, name="middle", created_at=T0 + timedelta(hours=1)),
        make_api_key(alice, name="new", created_at=T0 + timedelta(hours=2)),
    ]
    async with backend.new_uow() as uow:
        for key in keys:
            await uow.api_keys.add(key)
        await uow.commit()

    async with backend.new_uow() as uow:
        alices = await uow.api_keys.list(owner_id=alice.id)
        everyone = await uow.api_keys.list(owner_id=None)
        nobodys = await uow.api_keys.list(owner_id=make_user("ghost").id)

    assert [k.name for k in alices] == ["new", "old"]
    assert [k.name for k in everyone] == ["new", "middle", "old"]
    assert nobodys == []
