"""Contract of `RoleRepository`, identical on every adapter."""

import asyncio
from datetime import timedelta

import pytest

from application.errors import RoleExistsError, RoleNotFoundError
from application.ports.user_repository import UserFilter
from domain.access.permissions import ALL_PERMISSIONS, Permission
from domain.access.roles import (
    BUILTIN_PERMISSIONS,
    BuiltinRoleError,
    Role,
    RoleDefinition,
    builtin_role,
)
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_role,
    make_user,
    store_roles,
    store_users,
)


async def test_the_builtin_roles_always_exist_with_the_domains_permissions(
    backend: Backend,
) -> None:
    async with backend.new_uow() as uow:
        listed = await uow.roles.list()
        admin = await uow.roles.get("admin")

    assert [r.name for r in listed] == ["admin", "auditor", "user"]
    for role in listed:
        assert role.builtin is True
        assert role.permissions == BUILTIN_PERMISSIONS[role.name]
        assert role.created_at.utcoffset() == timedelta(0)
    assert admin is not None
    assert admin.permissions == ALL_PERMISSIONS


async def test_a_stored_role_reads_back_field_for_field(backend: Backend) -> None:
    role = make_role(
        "support",
        permissions=frozenset({Permission.USERS_READ, Permission.AUDIT_READ}),
        created_at=T0.astimezone(PLUS_TWO),
    )
    role.updated_at = T0 + timedelta(seconds=1)
    bare = make_role("nobody", permissions=frozenset())
    await store_roles(backend, role, bare)

    async with backend.new_uow() as uow:
        found = await uow.roles.get("support")
        found_bare = await uow.roles.get("nobody")
        assert await uow.roles.get("ghost") is None

    assert found is not None
    assert found_bare is not None
    assert_same_fields(role, found)
    assert_same_fields(bare, found_bare)
    assert found.pull_events() == []


async def test_list_puts_builtin_roles_first_then_sorts_by_name(backend: Backend) -> None:
    await store_roles(backend, make_role("zeta"), make_role("beta"), make_role("alpha"))
    async with backend.new_uow() as uow:
        listed = await uow.roles.list()
        some = await uow.roles.get_many(frozenset({"zeta", "user", "ghost", "alpha"}))
        none = await uow.roles.get_many(frozenset())

    assert [r.name for r in listed] == ["admin", "auditor", "user", "alpha", "beta", "zeta"]
    assert [r.name for r in some] == ["user", "alpha", "zeta"]  # unknown names are absent
    assert none == []


@pytest.mark.parametrize("name", ["support", Role.ADMIN.value])
async def test_a_taken_name_is_refused_and_the_transaction_goes_on(
    backend: Backend, name: str
) -> None:
    await store_roles(backend, make_role("support"))
    async with backend.new_uow() as uow:
        assert await uow.roles.get(name) is not None  # loaded first: must not matter
        with pytest.raises(RoleExistsError):
            await uow.roles.add(make_role(name, permissions=frozenset()))
        await uow.roles.add(make_role("other"))
        await uow.commit()

    async with backend.new_uow() as uow:
        names = [r.name for r in await uow.roles.list()]
        kept = await uow.roles.get(name)
    assert names == ["admin", "auditor", "user", "other", "support"]
    assert kept is not None
    assert kept.permissions != frozenset()  # the first definition stands


async def test_racing_creations_of_one_name_admit_exactly_one(backend: Backend) -> None:
    async def create(i: int) -> str:
        try:
            async with backend.new_uow() as uow:
                await uow.roles.add(make_role("support", created_at=T0 + timedelta(seconds=i)))
                await asyncio.sleep(0)
                await uow.commit()
        except RoleExistsError:
            return "refused"
        return "created"

    outcomes = await asyncio.gather(*(create(i) for i in range(4)))
    assert sorted(outcomes) == ["created"] + ["refused"] * 3


async def test_update_changes_permissions(backend: Backend) -> None:
    await store_roles(backend, make_role("support"))
    async with backend.new_uow() as uow:
        role = await uow.roles.get("support")
        assert role is not None
        role.change(now=T0 + timedelta(minutes=1), permissions=frozenset({Permission.AUDIT_READ}))
        await uow.roles.update(role, previous_name="support")
        await uow.commit()

    async with backend.new_uow() as uow:
        stored = await uow.roles.get("support")
    assert stored is not None
    assert_same_fields(role, stored)
    assert stored.created_at == T0


async def test_renaming_a_role_renames_it_on_every_holder(backend: Backend) -> None:
    await store_roles(backend, make_role("support"), make_role("sales"))
    alice = make_user("alice", roles=frozenset({"support", Role.USER}))
    bob = make_user("bob", roles=frozenset({"support", "sales"}))
    carol = make_user("carol", roles=frozenset({"sales"}))
    await store_users(backend, alice, bob, carol)

    async with backend.new_uow() as uow:
        assert await uow.users.get(alice.id) is not None  # cached before the rename
        role = await uow.roles.get("support")
        assert role is not None
        role.change(now=T0 + timedelta(minutes=1), name="helpdesk")
        await uow.roles.update(role, previous_name="support")
        seen_inside = await uow.users.get(alice.id)
        assert seen_inside is not None
        assert seen_inside.roles == frozenset({"helpdesk", "user"})
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.roles.get("support") is None
        renamed = await uow.roles.get("helpdesk")
        holders = await uow.users.list(filter=UserFilter(role="helpdesk"), after=None, limit=10)
        old_holders = await uow.users.list(filter=UserFilter(role="support"), after=None, limit=10)
        reloaded = {u.username: u for u in holders}
        carol_now = await uow.users.get(carol.id)
    assert renamed is not None
    assert renamed.updated_at == T0 + timedelta(minutes=1)
    assert old_holders == []
    assert set(reloaded) == {"alice", "bob"}
    assert reloaded["alice"].roles == ("helpdesk", "user")
    assert reloaded["bob"].roles == ("helpdesk", "sales")
    assert reloaded["bob"].updated_at == T0  # a cascade is not an edit of the user
    assert carol_now is not None
    assert carol_now.roles == frozenset({"sales"})


async def test_an_uncommitted_rename_changes_nobody(backend: Backend) -> None:
    await store_roles(backend, make_role("support"))
    alice = make_user("alice", roles=frozenset({"support"}))
    await store_users(backend, alice)
    async with backend.new_uow() as uow:
        role = await uow.roles.get("support")
        assert role is not None
        role.change(now=T0, name="helpdesk")
        await uow.roles.update(role, previous_name="support")
    async with backend.new_uow() as uow:
        loaded = await uow.users.get(alice.id)
        assert await uow.roles.get("support") is not None
    assert loaded is not None
    assert loaded.roles == frozenset({"support"})


async def test_renaming_onto_a_taken_name_is_refused(backend: Backend) -> None:
    await store_roles(backend, make_role("support"), make_role("sales"))
    alice = make_user("alice", roles=frozenset({"support"}))
    await store_users(backend, alice)

    async with backend.new_uow() as uow:
        role = await uow.roles.get("support")
        assert role is not None
        role.change(now=T0, name="sales")
        with pytest.raises(RoleExistsError):
            await uow.roles.update(role, previous_name="support")
        role.change(now=T0, name="user")
        with pytest.raises(RoleExistsError):
            await uow.roles.update(role, previous_name="support")
        await uow.commit()  # still usable; nothing changed

    async with backend.new_uow() as uow:
        names = [r.name for r in await uow.roles.list()]
        loaded = await uow.users.get(alice.id)
    assert names == ["admin", "auditor", "user", "sales", "support"]
    assert loaded is not None
    assert loaded.roles == frozenset({"support"})


async def test_updating_an_unknown_role_is_not_found(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        with pytest.raises(RoleNotFoundError):
            await uow.roles.update(make_role("ghost"), previous_name="ghost")


async def test_builtin_roles_are_never_changed_or_deleted(backend: Backend) -> None:
    admin = await _get_role(backend, "admin")
    await store_users(backend, holder := make_user("root", roles=frozenset({Role.ADMIN})))
    # What a bypassed domain check would send.
    forged = builtin_role("admin", now=T0)
    forged.name = "root"
    forged.permissions = frozenset()

    async with backend.new_uow() as uow:
        with pytest.raises(BuiltinRoleError):
            await uow.roles.update(forged, previous_name="admin")
        await uow.roles.delete("admin")
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.roles.get("root") is None
        loaded = await uow.users.get(holder.id)
    assert_same_fields(admin, await _get_role(backend, "admin"))
    assert loaded is not None
    assert loaded.roles == frozenset({"admin"})


async def test_deleting_a_role_takes_it_from_its_holders(backend: Backend) -> None:
    await store_roles(backend, make_role("support"), make_role("sales"))
    alice = make_user("alice", roles=frozenset({"support", "sales"}))
    bob = make_user("bob", roles=frozenset({"support"}))
    await store_users(backend, alice, bob)

    async with backend.new_uow() as uow:
        assert await uow.users.get(alice.id) is not None  # cached before the delete
        await uow.roles.delete("support")
        inside = await uow.users.get(alice.id)
        assert inside is not None
        assert inside.roles == frozenset({"sales"})
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.roles.get("support") is None
        alice_now = await uow.users.get(alice.id)
        bob_now = await uow.users.get(bob.id)
        await uow.roles.delete("support")  # deleting twice is harmless
        await uow.roles.delete("ghost")
    assert alice_now is not None
    assert alice_now.roles == frozenset({"sales"})
    assert bob_now is not None
    assert bob_now.roles == frozenset()


async def test_a_deleted_name_can_be_created_again(backend: Backend) -> None:
    await store_roles(backend, make_role("support"))
    async with backend.new_uow() as uow:
        await uow.roles.delete("support")
        await uow.roles.add(make_role("support", permissions=frozenset()))
        await uow.commit()
    again = await _get_role(backend, "support")
    assert again.permissions == frozenset()


async def _get_role(backend: Backend, name: str) -> RoleDefinition:
    async with backend.new_uow() as uow:
        role = await uow.roles.get(name)
    assert role is not None
    return role
