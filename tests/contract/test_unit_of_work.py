"""Contract of `UnitOfWork`: one transaction, committed explicitly or not at all."""

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from adapters.crypto.secret_box import DEVELOPMENT_ONLY_KEY, FernetSecretBox
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import StorageUnavailableError
from application.ports.audit_log import AuditFilter
from domain.identity.value_objects import Username
from tests.contract.persistence import (
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_api_key,
    make_audit_event,
    make_factor,
    make_mail,
    make_one_time_token,
    make_role,
    make_service_client,
    make_signing_key,
    make_user,
    sequential_ids,
    store_users,
)


class Boom(Exception):
    pass


async def test_committed_writes_are_visible_to_later_units(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    async with backend.new_uow() as uow:
        assert await uow.users.get(user.id) is not None


async def test_leaving_without_commit_keeps_nothing(backend: Backend) -> None:
    user = make_user("alice")
    async with backend.new_uow() as uow:
        await uow.users.add(user)
        assert await uow.users.get(user.id) is not None  # visible inside its own unit
    async with backend.new_uow() as uow:
        assert await uow.users.get(user.id) is None
        assert await uow.users.get_by_username(Username("alice")) is None


async def test_an_exception_rolls_back_and_propagates_unchanged(backend: Backend) -> None:
    user = make_user("alice")

    async def fail_midway() -> None:
        async with backend.new_uow() as uow:
            await uow.users.add(user)
            raise Boom

    with pytest.raises(Boom):
        await fail_midway()
    async with backend.new_uow() as uow:
        assert await uow.users.get(user.id) is None


async def test_every_repository_shares_the_one_transaction(backend: Backend) -> None:
    owner = make_user("alice")
    await store_users(backend, owner)
    key, token, mail = make_api_key(owner), make_one_time_token(owner), make_mail()
    signing_key, client = make_signing_key(), make_service_client()
    (event_id,) = sequential_ids(1)

    async def write_everything(*, commit: bool) -> None:
        async with backend.new_uow() as uow:
            await uow.roles.add(make_role("support"))
            await uow.api_keys.add(key)
            await uow.audit.append(make_audit_event(event_id))
            await uow.one_time_tokens.add(token)
            await uow.outbox.add(mail)
            await uow.signing_keys.add(signing_key)
            await uow.clients.add(client)
            await uow.mfa.put(make_factor(owner))
            if commit:
                await uow.commit()

    async def written() -> list[bool]:
        async with backend.new_uow() as uow:
            return [
                await uow.roles.get("support") is not None,
                await uow.api_keys.get(key.id) is not None,
                bool(await uow.audit.list(filter=AuditFilter(), after=None, limit=1)),
                await uow.one_time_tokens.get(token.token_hash) is not None,
                bool(await uow.outbox.claim(now=T0, lease_seconds=1, limit=1)),
                bool(await uow.signing_keys.list()),
                await uow.clients.get(client.client_id) is not None,
                await uow.mfa.get(owner.id) is not None,
            ]

    await write_everything(commit=False)
    assert await written() == [False] * 8
    await write_everything(commit=True)
    assert await written() == [True] * 8


async def test_writes_after_a_commit_need_another_commit(backend: Backend) -> None:
    first, second = make_user("alice"), make_user("bob")
    async with backend.new_uow() as uow:
        await uow.users.add(first)
        await uow.commit()
        await uow.users.add(second)
    async with backend.new_uow() as uow:
        assert await uow.users.get(first.id) is not None
        assert await uow.users.get(second.id) is None


async def test_a_unit_of_work_is_single_use(backend: Backend) -> None:
    uow = backend.new_uow()
    async with uow:
        pass
    with pytest.raises(RuntimeError):
        async with uow:
            pass


async def test_without_a_box_the_sql_unit_uses_the_development_key(sqlite_url: str) -> None:
    """Only so that callers built before encryption at rest keep working: the key is
    public, and production passes a box made from its settings."""
    engine = create_engine(sqlite_url)
    factory = create_session_factory(engine)
    user = make_user("alice")
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.add(user)
            await uow.mfa.put(make_factor(user))
            await uow.commit()
        async with SqlAlchemyUnitOfWork(factory, FernetSecretBox([DEVELOPMENT_ONLY_KEY])) as uow:
            assert await uow.mfa.get(user.id) is not None
    finally:
        await engine.dispose()


# --- Infrastructure failures (SQL adapter only: the in-memory store cannot fail) -------


async def test_unreachable_postgres_is_storage_unavailable() -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", connect_timeout=1)
    try:
        with pytest.raises(StorageUnavailableError) as caught:
            async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as uow:
                await uow.users.get(uuid.uuid4())
        assert caught.value.__cause__ is not None
    finally:
        await engine.dispose()


async def test_unopenable_sqlite_file_is_storage_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    engine = create_engine(f"sqlite+aiosqlite:///{directory}")  # a directory, not a file
    try:
        with pytest.raises(StorageUnavailableError):
            async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as uow:
                await uow.users.get(uuid.uuid4())
    finally:
        await engine.dispose()


async def test_a_connection_killed_mid_transaction_is_storage_unavailable_then_recovers(
    postgres_clean_url: str,
) -> None:
    engine = create_engine(postgres_clean_url, pool_size=2)
    factory = create_session_factory(engine)
    admin = await asyncpg.connect(postgres_clean_url.replace("+asyncpg", ""))

    async def lose_the_connection_midway() -> None:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.add(make_user("alice"))
            # What a server restart or a failover does to open connections.
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await uow.users.add(make_user("bob"))
            await uow.commit()

    try:
        with pytest.raises(StorageUnavailableError):
            await lose_the_connection_midway()

        # The pool drops the dead connection (pre-ping) and the next unit works.
        user = make_user("carol")
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.add(user)
            await uow.commit()
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert await uow.users.get(user.id) is not None
    finally:
        await admin.close()
        await engine.dispose()


async def test_concurrent_sqlite_writers_queue_instead_of_failing(sqlite_url: str) -> None:
    """Deferred SQLite transactions that read, then write, fail with "database is
    locked"; BEGIN IMMEDIATE makes them wait their turn."""
    engine = create_engine(sqlite_url, pool_size=10)
    factory = create_session_factory(engine)
    users = [make_user(f"user{i}") for i in range(10)]

    async def read_then_write(i: int) -> None:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.count_active_admins()
            await asyncio.sleep(0.01)
            await uow.users.add(users[i])
            await uow.commit()

    try:
        await asyncio.gather(*(read_then_write(i) for i in range(10)))
        async with SqlAlchemyUnitOfWork(factory) as uow:
            for user in users:
                assert await uow.users.get(user.id) is not None
    finally:
        await engine.dispose()
