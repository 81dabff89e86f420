"""Contract of `ServiceClientRepository`, identical on every adapter."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from application.errors import ConflictError, ServiceClientNotFoundError
from domain.access.permissions import Permission
from domain.tokens.service_clients import ServiceClient
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_service_client,
    make_user,
    store_users,
)


async def store_clients(backend: Backend, *clients: ServiceClient) -> None:
    async with backend.new_uow() as uow:
        for client in clients:
            await uow.clients.add(client)
        await uow.commit()


async def test_a_stored_client_reads_back_field_for_field(backend: Backend) -> None:
    admin = make_user("alice")
    await store_users(backend, admin)
    client = make_service_client(
        "svc_billing",
        name="billing export",
        created_by=admin,
        created_at=T0.astimezone(PLUS_TWO),
        scopes=frozenset({Permission.USERS_READ, Permission.AUDIT_READ}),
    )
    client.revoked_at = (T0 + timedelta(days=1)).astimezone(PLUS_TWO)
    bare = make_service_client("svc_bare", scopes=frozenset())  # no creator, no scopes
    await store_clients(backend, client, bare)

    async with backend.new_uow() as uow:
        found = await uow.clients.get("svc_billing")
        bare_again = await uow.clients.get("svc_bare")
        assert await uow.clients.get("svc_nobody") is None

    assert found is not None
    assert_same_fields(client, found)
    assert found.pull_events() == []
    assert bare_again is not None
    assert_same_fields(bare, bare_again)


async def test_a_client_outlives_the_user_who_created_it(backend: Backend) -> None:
    admin = make_user("alice")
    await store_users(backend, admin)
    client = make_service_client(created_by=admin)
    await store_clients(backend, client)
    async with backend.new_uow() as uow:
        await uow.users.delete(admin.id)
        await uow.commit()
    async with backend.new_uow() as uow:
        kept = await uow.clients.get(client.client_id)
    assert kept is not None
    assert kept.created_by == admin.id  # still names who made it, for the audit trail


async def test_changes_count_only_once_passed_to_update(backend: Backend) -> None:
    admin = make_user("alice")
    await store_users(backend, admin)
    client = make_service_client(created_by=admin)
    async with backend.new_uow() as uow:
        await uow.clients.add(client)
        client.name = "changed after add"  # the stored copy must not follow
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.clients.get(client.client_id)
        assert loaded is not None
        assert loaded.name == "billing"
        loaded.revoke(now=T0 + timedelta(hours=1))  # not passed on
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.clients.get(client.client_id)
        assert loaded is not None
        assert loaded.is_active
        assert loaded.revoke(now=(T0 + timedelta(hours=1)).astimezone(PLUS_TWO))
        loaded.name = "renamed"
        loaded.secret_hash = "f" * 64  # a rotated secret
        loaded.scopes = frozenset({Permission.API_KEYS_MANAGE})
        await uow.clients.update(loaded)
        seen_inside = await uow.clients.get(client.client_id)
        assert seen_inside is not None
        assert seen_inside.revoked_at == T0 + timedelta(hours=1)
        await uow.commit()

    async with backend.new_uow() as uow:
        saved = await uow.clients.get(client.client_id)
    assert saved is not None
    assert_same_fields(loaded, saved)
    assert not saved.is_active


async def test_update_never_changes_creator_or_creation_time(backend: Backend) -> None:
    admin = make_user("alice")
    await store_users(backend, admin)
    client = make_service_client(created_by=admin)
    await store_clients(backend, client)
    async with backend.new_uow() as uow:
        loaded = await uow.clients.get(client.client_id)
        assert loaded is not None
        loaded.created_by = None
        loaded.created_at = T0 + timedelta(days=3)
        loaded.name = "renamed"
        await uow.clients.update(loaded)
        await uow.commit()
    async with backend.new_uow() as uow:
        saved = await uow.clients.get(client.client_id)
    assert saved is not None
    assert (saved.name, saved.created_by, saved.created_at) == ("renamed", admin.id, T0)


async def test_update_of_an_unknown_client_is_not_found(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        with pytest.raises(ServiceClientNotFoundError):
            await uow.clients.update(make_service_client())


async def test_a_taken_client_id_is_a_conflict(backend: Backend) -> None:
    first = make_service_client("svc_taken", name="first")
    await store_clients(backend, first)

    async with backend.new_uow() as uow:
        assert await uow.clients.get("svc_taken") is not None  # in the identity map now
        with pytest.raises(ConflictError):
            await uow.clients.add(make_service_client("svc_taken", name="second"))
        await uow.clients.add(make_service_client("svc_other"))  # still usable
        await uow.commit()

    async with backend.new_uow() as uow:
        found = await uow.clients.get("svc_taken")
        listed = await uow.clients.list()
    assert found is not None
    assert found.name == "first"
    assert sorted(c.client_id for c in listed) == ["svc_other", "svc_taken"]


async def test_list_is_newest_first(backend: Backend) -> None:
    clients = [
        make_service_client("svc_old", created_at=T0),
        make_service_client("svc_new", created_at=T0 + timedelta(hours=2)),
        make_service_client(
            "svc_middle", created_at=(T0 + timedelta(hours=1)).astimezone(PLUS_TWO)
        ),
    ]
    clients[0].revoke(now=T0 + timedelta(hours=3))  # revoked clients are listed too
    await store_clients(backend, *clients)
    async with backend.new_uow() as uow:
        listed = await uow.clients.list()
    assert [c.client_id for c in listed] == ["svc_new", "svc_middle", "svc_old"]


async def test_no_clients_is_an_empty_list(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        assert await uow.clients.list() == []


async def test_a_scope_the_code_no_longer_knows_grants_nothing(backend: Backend) -> None:
    """Looks behind the port: a retired permission left in a row is dropped on read."""
    if backend.engine is None:
        pytest.skip("the in-memory twin holds `Permission` values, never unknown text")
    client = make_service_client("svc_legacy", scopes=frozenset({Permission.USERS_READ}))
    await store_clients(backend, client)
    async with backend.engine.begin() as connection:
        await connection.execute(
            text("UPDATE service_clients SET scopes = :scopes WHERE client_id = 'svc_legacy'"),
            {"scopes": '["legacy:scope","users:read"]'},
        )
    async with backend.new_uow() as uow:
        found = await uow.clients.get("svc_legacy")
    assert found is not None
    assert found.scopes == frozenset({Permission.USERS_READ})
