"""`UserCache`: one load per key however many requests miss at once, never a value
read before a write stored after it, and the database answering when the cache can't."""

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from adapters.memory.cache import InProcessCache
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.tiered_cache import TieredCache
from application.caching.invalidation import CacheInvalidation
from application.caching.user_cache import UserCache
from application.errors import CacheUnavailableError
from application.ports.cache import CacheEntry
from domain.access.permissions import Permission
from domain.access.roles import Role, RoleDefinition
from domain.identity.user import User
from domain.identity.value_objects import Email, Username
from tests.eventful import units_of_work

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class CountingUnitsOfWork:
    """Counts transactions and can hold them open, to line up concurrent loads."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.opened = 0
        self.gate: asyncio.Event | None = None

    def __call__(self) -> "GatedUnitOfWork":
        self.opened += 1
        return GatedUnitOfWork(self.store, self.gate)


class GatedUnitOfWork(InMemoryUnitOfWork):
    def __init__(self, store: InMemoryStore, gate: asyncio.Event | None) -> None:
        super().__init__(store)
        self._gate = gate

    async def __aenter__(self) -> "GatedUnitOfWork":
        if self._gate is not None:
            await self._gate.wait()
        await super().__aenter__()
        return self


async def add_user(store: InMemoryStore, roles: frozenset[str] = frozenset({Role.USER})) -> User:
    user = User.register(
        id=uuid4(),
        email=Email(f"{uuid4().hex[:8]}@example.com"),
        username=Username(f"u{uuid4().hex[:8]}"),
        full_name=None,
        password_hash="$argon2id$not-a-real-hash",
        now=NOW,
        roles=roles,
    )
    async with InMemoryUnitOfWork(store) as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def test_concurrent_misses_for_one_user_cause_one_load() -> None:
    store = InMemoryStore()
    user = await add_user(store)
    units = CountingUnitsOfWork(store)
    users = UserCache(TieredCache(InProcessCache()), units)
    roles = await users.roles()
    units.opened = 0
    units.gate = asyncio.Event()

    waiting = [asyncio.create_task(users.user(user.id, roles)) for _ in range(50)]
    await asyncio.sleep(0)
    units.gate.set()
    found = await asyncio.gather(*waiting)

    assert units.opened == 1
    assert {u.id for u in found if u is not None} == {user.id}
    await users.user(user.id, roles)
    assert units.opened == 1  # and then it is cached


async def test_a_cancelled_request_does_not_cancel_the_load_others_wait_for() -> None:
    store = InMemoryStore()
    user = await add_user(store)
    units = CountingUnitsOfWork(store)
    users = UserCache(TieredCache(InProcessCache()), units)
    roles = await users.roles()
    units.gate = asyncio.Event()
    first = asyncio.create_task(users.user(user.id, roles))
    second = asyncio.create_task(users.user(user.id, roles))
    await asyncio.sleep(0)
    first.cancel()
    units.gate.set()
    assert (await second) is not None


async def test_cached_users_carry_no_password_hash() -> None:
    store = InMemoryStore()
    user = await add_user(store)
    users = UserCache(TieredCache(InProcessCache()), CountingUnitsOfWork(store))
    roles = await users.roles()
    for _ in range(2):  # loaded, then cached
        found = await users.user(user.id, roles)
        assert found is not None
        assert found.password_hash is None
        assert found.email == user.email
        assert found.roles == user.roles


async def test_a_load_that_read_before_a_commit_does_not_store_after_it() -> None:
    store = InMemoryStore()
    user = await add_user(store)
    cache = TieredCache(InProcessCache())
    writes = units_of_work(
        lambda: InMemoryUnitOfWork(store), after_commit=[CacheInvalidation(cache)]
    )
    read_old = asyncio.Event()
    release = asyncio.Event()

    class ReadsThenStalls(InMemoryUnitOfWork):
        async def __aexit__(self, *args: Any) -> None:
            await super().__aexit__(*args)
            read_old.set()
            await release.wait()

    users = UserCache(cache, lambda: ReadsThenStalls(store))
    roles = await UserCache(cache, CountingUnitsOfWork(store)).roles()
    load = asyncio.create_task(users.user(user.id, roles))
    await read_old.wait()  # the old row is in hand, not yet stored
    async with writes() as uow:
        stored = await uow.users.get(user.id, for_update=True)
        assert stored is not None
        stored.update(now=NOW, is_active=False)
        await uow.users.update(stored)
        await uow.commit()
    release.set()
    assert (await load) is not None  # that request saw the old row...
    fresh = await UserCache(cache, CountingUnitsOfWork(store)).user(user.id, roles)
    assert fresh is not None
    assert not fresh.is_active


class DownCache:
    async def get(self, key: str) -> CacheEntry:
        raise CacheUnavailableError()

    async def set(self, key: str, value: bytes, *, ttl_seconds: float, stamp: str) -> None:
        raise CacheUnavailableError()

    async def invalidate(self, keys: Collection[str]) -> None:
        raise CacheUnavailableError()

    async def amend(self, rewrites: Any) -> None:
        raise CacheUnavailableError()


async def test_an_unreachable_cache_falls_through_to_the_database() -> None:
    store = InMemoryStore()
    user = await add_user(store, roles=frozenset({Role.USER, Role.AUDITOR}))
    units = CountingUnitsOfWork(store)
    users = UserCache(DownCache(), units)
    roles = await users.roles()
    found = await users.user(user.id, roles)
    assert found is not None
    assert found.id == user.id
    assert Permission.AUDIT_READ in roles.permissions(found.roles)
    writes = units_of_work(
        lambda: InMemoryUnitOfWork(store), after_commit=[CacheInvalidation(DownCache())]
    )
    async with writes() as uow:  # a write still commits
        stored = await uow.users.get(user.id, for_update=True)
        assert stored is not None
        stored.update(now=NOW, is_active=False)
        await uow.users.update(stored)
        await uow.commit()
    again = await users.user(user.id, roles)
    assert again is not None
    assert not again.is_active


async def test_a_role_rename_retires_every_cached_user() -> None:
    store = InMemoryStore()
    cache = TieredCache(InProcessCache())
    writes = units_of_work(
        lambda: InMemoryUnitOfWork(store), after_commit=[CacheInvalidation(cache)]
    )
    async with writes() as uow:
        await uow.roles.add(
            RoleDefinition.create(
                name="ops", permissions=frozenset({Permission.AUDIT_READ}), now=NOW
            )
        )
        await uow.commit()
    user = await add_user(store, roles=frozenset({Role.USER, "ops"}))
    users = UserCache(cache, CountingUnitsOfWork(store))
    cached = await users.user(user.id, await users.roles())
    assert cached is not None
    assert "ops" in cached.roles

    async with writes() as uow:
        role = await uow.roles.get("ops")
        assert role is not None
        role.change(now=NOW, name="operators")
        await uow.roles.update(role, previous_name="ops")
        await uow.commit()

    roles = await users.roles()
    renamed = await users.user(user.id, roles)
    assert renamed is not None
    assert renamed.roles == {Role.USER, "operators"}
    assert Permission.AUDIT_READ in roles.permissions(renamed.roles)


async def log_in(writes: Any, user: User, *, at: datetime, also_deactivate: bool = False) -> None:
    async with writes() as uow:
        stored = await uow.users.get(user.id, for_update=True)
        assert stored is not None
        stored.record_login(session_id=uuid4(), now=at)
        if also_deactivate:
            stored.update(now=at, is_active=False)
        await uow.users.update(stored)
        await uow.commit()


async def test_a_login_amends_the_cached_user_instead_of_reloading_it() -> None:
    store = InMemoryStore()
    user = await add_user(store)
    cache = TieredCache(InProcessCache())
    writes = units_of_work(
        lambda: InMemoryUnitOfWork(store), after_commit=[CacheInvalidation(cache)]
    )
    units = CountingUnitsOfWork(store)
    users = UserCache(cache, units)
    roles = await users.roles()
    assert (await users.user(user.id, roles)) is not None  # cached
    loads = units.opened
    later = NOW.replace(hour=5)

    await log_in(writes, user, at=later)

    seen = await users.user(user.id, roles)
    assert seen is not None
    assert seen.last_login_at == later
    assert units.opened == loads, "served from the amended copy, no reload"
    await log_in(writes, user, at=later.replace(hour=6), also_deactivate=True)
    reloaded = await users.user(user.id, roles)
    assert reloaded is not None
    assert not reloaded.is_active, "a login batch with another change still drops the user"
    assert units.opened == loads + 1
