"""The migrations build exactly the schema the adapter maps, and undo cleanly."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.migrations import (
    alembic_config,
    current_revision,
    downgrade_to,
    downgrade_to_base,
    head_revision,
    upgrade_to,
    upgrade_to_head,
)
from adapters.sqlalchemy.models import metadata
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.access.permissions import ALL_PERMISSIONS
from domain.access.roles import UnknownRoleError
from tests.contract.persistence import (
    make_factor,
    make_service_client,
    make_signing_key,
    make_user,
)

APP_TABLES = {
    "users",
    "user_roles",
    "sessions",
    "refresh_tokens",
    "roles",
    "api_keys",
    "audit_events",
    "one_time_tokens",
    "mail_outbox",
    "signing_keys",
    "service_clients",
    "mfa_factors",
    "event_outbox",
    # The releases context (0007).
    "releases",
    "environments",
    "deployments",
    "idempotency_records",
    "webhooks",
    "webhook_deliveries",
    "authorization_codes",
    "consents",
    "external_identities",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def _drift(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_stairway_up_and_down_every_revision(empty_url: str) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config(empty_url)).walk_revisions())
    revisions.reverse()  # base first
    assert revisions, "no migrations found"

    for revision in revisions:
        down = revision.down_revision or "base"
        assert isinstance(down, str), "the stairway expects a linear history"
        await asyncio.to_thread(upgrade_to, empty_url, revision.revision)
        await asyncio.to_thread(downgrade_to, empty_url, down)
        await asyncio.to_thread(upgrade_to, empty_url, revision.revision)

    assert await asyncio.to_thread(current_revision, empty_url) == head_revision()
    assert await _tables(empty_url) == APP_TABLES

    await asyncio.to_thread(downgrade_to_base, empty_url)
    assert await _tables(empty_url) == set()
    assert await asyncio.to_thread(current_revision, empty_url) is None

    await asyncio.to_thread(upgrade_to_head, empty_url)
    assert await _tables(empty_url) == APP_TABLES


async def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    # Called straight from the running loop on purpose: it must cope.
    upgrade_to_head(empty_url)

    assert await _drift(empty_url) == []


async def test_a_migrated_database_serves_the_adapter(empty_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_url)
    engine = create_engine(empty_url)
    factory = create_session_factory(engine)
    user = make_user("alice")
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.users.add(user)
            await uow.commit()
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert await uow.users.get(user.id) is not None
    finally:
        await engine.dispose()


async def test_access_control_keeps_existing_accounts_and_their_roles(empty_url: str) -> None:
    """0002 on a database in use: roles held before become rows (the built-in ones
    seeded, any other as a custom role), users get a clean lockout state, and going back
    to 0001 keeps every user's roles."""
    await asyncio.to_thread(upgrade_to, empty_url, "0001_initial")
    users = sa.table(
        "users",
        *(sa.column(c, sa.String()) for c in ("email", "username")),
        sa.column("id", sa.Uuid()),
        sa.column("is_active", sa.Boolean()),
        sa.column("is_verified", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    user_roles = sa.table("user_roles", sa.column("user_id", sa.Uuid()), sa.column("role_name"))
    alice, bob = uuid.uuid4(), uuid.uuid4()
    engine = create_engine(empty_url)
    try:
        async with engine.begin() as connection:
            now = datetime.now(UTC)
            for user_id, name in ((alice, "alice"), (bob, "bob")):
                await connection.execute(
                    users.insert().values(
                        id=user_id,
                        email=f"{name}@example.com",
                        username=name,
                        is_active=True,
                        is_verified=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await connection.execute(
                user_roles.insert(),
                [
                    {"user_id": alice, "role_name": "admin"},
                    {"user_id": alice, "role_name": "user"},
                    {"user_id": bob, "role_name": "legacy"},
                ],
            )
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade_to_head, empty_url)

    engine = create_engine(empty_url)
    factory = create_session_factory(engine)
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            roles = {r.name: r for r in await uow.roles.list()}
            loaded_alice = await uow.users.get(alice)
            loaded_bob = await uow.users.get(bob)
            assert await uow.users.count_active_admins() == 1
        assert list(roles) == ["admin", "auditor", "user", "legacy"]
        assert roles["admin"].builtin
        assert roles["admin"].permissions == ALL_PERMISSIONS
        assert not roles["legacy"].builtin
        assert roles["legacy"].permissions == frozenset()
        assert loaded_alice is not None
        assert loaded_alice.roles == frozenset({"admin", "user"})
        assert (loaded_alice.failed_logins, loaded_alice.locked_until) == (0, None)
        assert loaded_alice.lockouts == 0
        assert loaded_bob is not None
        assert loaded_bob.roles == frozenset({"legacy"})

        # The foreign key is in place: a role that does not exist cannot be held.
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert loaded_bob.assign_roles(frozenset({"ghost"}), now=datetime.now(UTC))
            with pytest.raises(UnknownRoleError):
                await uow.users.update(loaded_bob)
    finally:
        await engine.dispose()

    await asyncio.to_thread(downgrade_to, empty_url, "0001_initial")

    engine = create_engine(empty_url)
    try:
        async with engine.connect() as connection:
            held = (await connection.execute(sa.select(user_roles.c.role_name))).scalars().all()
            if engine.dialect.name == "postgresql":
                leftover = await connection.scalar(
                    sa.text(
                        "SELECT count(*) FROM pg_proc WHERE proname = 'audit_events_append_only'"
                    )
                )
                assert leftover == 0
    finally:
        await engine.dispose()
    assert sorted(held) == ["admin", "legacy", "user"]
    assert await _tables(empty_url) == {"users", "user_roles", "sessions", "refresh_tokens"}


async def test_tokens_and_mfa_come_and_go_without_touching_accounts(empty_url: str) -> None:
    """0003 on a database in use adds its three tables; going back to 0002 drops them
    (keys, clients and factors with them) and keeps every account."""
    await asyncio.to_thread(upgrade_to, empty_url, "0002_access_control")
    user = make_user("alice")
    engine = create_engine(empty_url)
    try:
        # 0003 does not change `users`: today's adapter can write an account at 0002.
        async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as uow:
            await uow.users.add(user)
            await uow.commit()
    finally:
        await engine.dispose()

    # To the head, not 0003: today's adapters write the columns later revisions add to
    # these tables (0009 gives clients their OpenID registration).
    await asyncio.to_thread(upgrade_to_head, empty_url)
    engine = create_engine(empty_url)
    factory = create_session_factory(engine)
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            await uow.mfa.put(make_factor(user))
            await uow.signing_keys.add(make_signing_key())
            await uow.clients.add(make_service_client(created_by=user))
            await uow.commit()
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert await uow.mfa.get(user.id) is not None
    finally:
        await engine.dispose()

    await asyncio.to_thread(downgrade_to, empty_url, "0002_access_control")
    assert await _tables(empty_url) == APP_TABLES - {
        "signing_keys",
        "service_clients",
        "mfa_factors",
        "event_outbox",  # from 0005, later than 0002
        "releases",  # these four from 0007
        "environments",
        "deployments",
        "idempotency_records",
        "webhooks",  # from 0008
        "webhook_deliveries",
        "authorization_codes",  # from 0009
        "consents",
        "external_identities",
    }

    await asyncio.to_thread(upgrade_to_head, empty_url)
    engine = create_engine(empty_url)
    factory = create_session_factory(engine)
    try:
        async with SqlAlchemyUnitOfWork(factory) as uow:
            assert await uow.users.get(user.id) is not None
            assert await uow.mfa.get(user.id) is None
            assert await uow.signing_keys.list() == []
            assert await uow.clients.list() == []
    finally:
        await engine.dispose()
