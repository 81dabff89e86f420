"""Administrators list, read, change and delete accounts, and cannot lock themselves out."""

from collections.abc import Callable
from uuid import UUID

import pytest

from application.common.security import Principal
from application.errors import (
    EmailAlreadyRegisteredError,
    InvalidTokenError,
    LastAdministratorError,
    PermissionDeniedError,
    UsernameTakenError,
    UserNotFoundError,
)
from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
from application.identity.use_cases.create_user import CreateUserCommand
from application.identity.use_cases.list_users import ListUsersQuery
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.access.permissions import ALL_PERMISSIONS
from domain.access.roles import Role
from domain.common.errors import UnknownRoleError
from domain.identity.events import SessionRevoked, UserDeactivated, UserDeleted, UserUpdated
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username
from tests.unit.application.conftest import ADMIN_EMAIL, PASSWORD, App
from tests.unit.application.fakes import UnavailableRevocationStore
from tests.unit.application.steps import audit_rows


async def second_admin(app: App, admin: Principal, username: str = "deputy") -> Principal:
    await app.create_user.execute(
        admin,
        CreateUserCommand(
            email=f"{username}@example.com",
            username=username,
            password=PASSWORD,
            roles=["admin", "user"],
        ),
    )
    return await app.principal_for(await app.log_in_as(username))


# --- ListUsers ---------------------------------------------------------------------------


async def test_listing_users_needs_users_read(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError, match="users:read") as caught:
        await app.list_users.execute(ada, ListUsersQuery())
    assert caught.value.code == "forbidden"


async def test_users_are_paged_in_creation_order(app: App) -> None:
    admin = await app.admin()
    for name in ("ada", "bob", "cyx", "dee"):
        await app.sign_up(name)
    seen: list[str] = []
    page = await app.list_users.execute(admin, ListUsersQuery(limit=2))
    seen += [u.username for u in page.items]
    while page.next_after is not None:
        page = await app.list_users.execute(admin, ListUsersQuery(limit=2, after=page.next_after))
        seen += [u.username for u in page.items]
    assert seen == ["root", "ada", "bob", "cyx", "dee"]


async def test_the_last_page_has_no_continuation(app: App) -> None:
    admin = await app.admin()
    await app.sign_up("ada")
    page = await app.list_users.execute(admin, ListUsersQuery(limit=2))
    assert [u.username for u in page.items] == ["root", "ada"]
    assert page.next_after is None
    first = await app.list_users.execute(admin, ListUsersQuery(limit=1))
    assert first.next_after == first.items[0].id


@pytest.mark.parametrize(("limit", "expected"), [(0, 1), (-5, 1), (1000, 100)])
async def test_the_page_size_is_kept_between_1_and_100(app: App, limit: int, expected: int) -> None:
    admin = await app.admin()
    async with app.uow() as uow:  # 120 accounts without 120 hashes
        for n in range(120):
            user = User.register(
                id=UUID(int=10_000 + n),
                email=Email(f"bulk{n}@example.com"),
                username=Username(f"bulk{n}"),
                full_name=None,
                password_hash="x",
                now=app.clock.now(),
            )
            await uow.users.add(user)
        await uow.commit()
    page = await app.list_users.execute(admin, ListUsersQuery(limit=limit))
    assert len(page.items) == expected
    assert page.next_after is not None


async def test_users_are_filtered_by_text_activity_and_role(app: App) -> None:
    admin = await app.admin()
    await app.sign_up("ada", full_name="Ada Lovelace")
    bob = await app.sign_up("bob", full_name="Robert")
    await app.sign_up("carol")
    await app.update_user.execute(admin, bob.id, UpdateUserCommand(is_active=False))

    async def names(**query: object) -> list[str]:
        page = await app.list_users.execute(admin, ListUsersQuery(**query))  # type: ignore[arg-type]
        return [u.username for u in page.items]

    assert await names(q="LOVELACE") == ["ada"]
    assert await names(q="bob@") == ["bob"]
    assert await names(q="") == ["root", "ada", "bob", "carol"]
    assert await names(is_active=False) == ["bob"]
    assert await names(is_active=True) == ["root", "ada", "carol"]
    assert await names(role="admin") == ["root"]
    assert await names(role="user", q="R", is_active=True) == ["root", "carol"]


async def test_an_unknown_role_filter_is_refused(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UnknownRoleError):
        await app.list_users.execute(admin, ListUsersQuery(role="wizard"))


# --- GetUser -----------------------------------------------------------------------------


async def test_anyone_may_read_their_own_account(app: App) -> None:
    ada = await app.signed_in("ada")
    assert (await app.get_user.execute(ada, ada.user_id)).username == Username("ada")


async def test_reading_another_account_needs_users_read(app: App) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.get_user.execute(ada, admin.user_id)
    assert (await app.get_user.execute(admin, ada.user_id)).id == ada.user_id


async def test_reading_an_unknown_account_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UserNotFoundError) as caught:
        await app.get_user.execute(admin, UUID(int=404))
    assert caught.value.code == "not_found"


async def test_a_plain_user_cannot_probe_which_ids_exist(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.get_user.execute(ada, UUID(int=404))


# --- UpdateUser --------------------------------------------------------------------------


async def test_an_administrator_changes_every_field(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada", full_name="Ada")
    updated = await app.update_user.execute(
        admin,
        ada.id,
        UpdateUserCommand(
            email="countess@example.com",
            username="countess",
            full_name="Ada King",
            is_verified=True,
            roles=["user", "admin"],
        ),
    )
    assert updated.email == Email("countess@example.com")
    assert updated.username == Username("countess")
    assert updated.full_name == FullName("Ada King")
    assert updated.is_verified, "an administrator may vouch for the new email"
    assert updated.roles == {Role.USER, Role.ADMIN}
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.username == Username("countess")
    await app.log_in_as("countess@example.com")


async def test_a_new_email_set_by_an_administrator_is_unverified_unless_vouched(
    app: App,
) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_verified=True))
    updated = await app.update_user.execute(
        admin, ada.id, UpdateUserCommand(email="new@example.com")
    )
    assert not updated.is_verified


async def test_the_full_name_is_cleared_on_request(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada", full_name="Ada")
    updated = await app.update_user.execute(admin, ada.id, UpdateUserCommand(clear_full_name=True))
    assert updated.full_name is None


async def test_changing_accounts_needs_users_write(app: App) -> None:
    bob = await app.sign_up("bob")
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(ada, bob.id, UpdateUserCommand(full_name="Hacked"))
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(ada, ada.user_id, UpdateUserCommand(roles=["admin"]))
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert stored.roles == {Role.USER}


async def test_updating_an_unknown_account_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UserNotFoundError):
        await app.update_user.execute(admin, UUID(int=404), UpdateUserCommand(full_name="x"))


async def test_email_and_username_stay_unique(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.sign_up("bob")
    with pytest.raises(EmailAlreadyRegisteredError):
        await app.update_user.execute(admin, ada.id, UpdateUserCommand(email="BOB@example.com"))
    with pytest.raises(UsernameTakenError):
        await app.update_user.execute(admin, ada.id, UpdateUserCommand(username="Bob"))
    same = await app.update_user.execute(
        admin, ada.id, UpdateUserCommand(email="ada@example.com", username="ada")
    )
    assert same.updated_at == ada.updated_at


async def test_an_unknown_role_is_refused(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    with pytest.raises(UnknownRoleError):
        await app.update_user.execute(admin, ada.id, UpdateUserCommand(roles=["god"]))


async def test_deactivating_an_account_ends_all_its_sessions_at_once(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    pairs = [await app.log_in_as("ada") for _ in range(2)]
    before = len(app.events.events)

    updated = await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=False))

    assert not updated.is_active
    for pair in pairs:
        assert await app.revocations.is_session_revoked(pair.session_id)
        session = await app.stored_session(pair.session_id)
        assert session is not None
        assert session.revoked_reason == "user_deactivated"
        with pytest.raises(InvalidTokenError):
            await app.principal_for(pair)
    published = app.events.events[before:]
    assert [type(e) for e in published] == [
        UserDeactivated,
        UserUpdated,
        SessionRevoked,
        SessionRevoked,
    ]
    assert (await app.principal_for(await app.log_in_as("root"))).user.is_admin


async def test_a_deactivation_survives_a_revocation_store_outage(
    make_app: Callable[..., App],
) -> None:
    app = make_app(revocations=UnavailableRevocationStore())
    admin_user = await app.bootstrap_admin.execute(
        BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
    )
    assert admin_user is not None
    ada = await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    # Authenticate needs the store, so the administrator is built by hand here.
    admin = Principal(user=admin_user, permissions=ALL_PERMISSIONS, session_id=UUID(int=1))
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=False))
    session = await app.stored_session(pair.session_id)
    assert session is not None
    assert session.revoked_reason == "user_deactivated"


async def test_reactivating_revokes_nothing(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=False))
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=True))
    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user.is_active


async def test_an_update_that_changes_nothing_writes_and_announces_nothing(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    before = len(app.events.events)
    app.clock.advance(seconds=5)
    same = await app.update_user.execute(
        admin, ada.id, UpdateUserCommand(is_active=True, roles=["user"])
    )
    assert same.updated_at == ada.updated_at
    assert len(app.events.events) == before


@pytest.mark.parametrize(
    "command",
    [UpdateUserCommand(is_active=False), UpdateUserCommand(roles=["user"])],
    ids=["deactivate", "demote"],
)
async def test_the_last_active_administrator_cannot_be_removed(
    app: App, command: UpdateUserCommand
) -> None:
    admin = await app.admin()
    before = len(app.events.events)
    with pytest.raises(LastAdministratorError) as caught:
        await app.update_user.execute(admin, admin.user_id, command)
    assert caught.value.code == "conflict"
    stored = await app.stored_user(admin.user_id)
    assert stored is not None
    assert stored.is_admin
    assert stored.is_active
    assert len(app.events.events) == before
    assert (await app.principal_for(await app.log_in_as("root"))).user.is_admin


async def test_an_administrator_can_step_down_when_another_remains(app: App) -> None:
    admin = await app.admin()
    deputy = await second_admin(app, admin)
    demoted = await app.update_user.execute(
        deputy, admin.user_id, UpdateUserCommand(roles=["user"])
    )
    assert not demoted.is_admin
    with pytest.raises(LastAdministratorError):
        await app.update_user.execute(deputy, deputy.user_id, UpdateUserCommand(is_active=False))


async def test_an_inactive_administrator_does_not_count_as_the_last_one(app: App) -> None:
    admin = await app.admin()
    deputy = await second_admin(app, admin)
    await app.update_user.execute(admin, deputy.user_id, UpdateUserCommand(is_active=False))
    # Demoting an already inactive admin removes no active administrator.
    await app.update_user.execute(admin, deputy.user_id, UpdateUserCommand(roles=["user"]))
    with pytest.raises(LastAdministratorError):
        await app.update_user.execute(admin, admin.user_id, UpdateUserCommand(roles=["user"]))


# --- DeleteUser --------------------------------------------------------------------------


async def test_deleting_an_account_ends_its_sessions_everywhere(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    pairs = [await app.log_in_as("ada") for _ in range(2)]

    await app.delete_user.execute(admin, ada.id)

    assert await app.stored_user(ada.id) is None
    for pair in pairs:
        assert await app.stored_session(pair.session_id) is None
        assert await app.revocations.is_session_revoked(pair.session_id)
        with pytest.raises(InvalidTokenError):
            await app.principal_for(pair)
    assert app.events.events[-1] == UserDeleted(occurred_at=app.clock.now(), user_id=ada.id)
    with pytest.raises(Exception, match="invalid username or password"):
        await app.log_in_as("ada")
    await app.sign_up("ada")  # the name is free again


async def test_deleting_needs_users_write(app: App) -> None:
    bob = await app.sign_up("bob")
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.delete_user.execute(ada, bob.id)
    assert await app.stored_user(bob.id) is not None


async def test_deleting_an_unknown_account_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UserNotFoundError):
        await app.delete_user.execute(admin, UUID(int=404))


async def test_the_last_active_administrator_cannot_be_deleted(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(LastAdministratorError):
        await app.delete_user.execute(admin, admin.user_id)
    assert await app.stored_user(admin.user_id) is not None
    assert "UserDeleted" not in app.event_names()


async def test_an_administrator_may_be_deleted_while_another_remains(app: App) -> None:
    admin = await app.admin()
    deputy = await second_admin(app, admin)
    await app.delete_user.execute(admin, deputy.user_id)
    assert await app.stored_user(deputy.user_id) is None
    with pytest.raises(LastAdministratorError):
        await app.delete_user.execute(admin, admin.user_id)


# --- EndUserSessions -------------------------------------------------------------------------


async def test_an_administrator_ends_every_session_of_an_account_at_once(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    pairs = [await app.log_in_as("ada") for _ in range(3)]
    before = len(app.events.events)

    ended = await app.end_user_sessions.execute(admin, ada.id)

    assert ended == 3
    for pair in pairs:
        assert await app.revocations.is_session_revoked(pair.session_id)
        with pytest.raises(InvalidTokenError):
            await app.principal_for(pair)
    published = app.events.events[before:]
    assert {(type(e), e.reason) for e in published} == {(SessionRevoked, "revoked_by_admin")}
    assert sorted(e.session_id for e in published) == sorted(p.session_id for p in pairs)
    rows = await audit_rows(app, action="session.revoked", target_id=str(ada.id))
    assert {(r.actor_id, r.details["reason"]) for r in rows} == {
        (admin.user_id, "revoked_by_admin")
    }
    assert len(rows) == 3
    await app.log_in_as("ada")  # signed out, not locked out
    assert await app.end_user_sessions.execute(admin, ada.id) == 1


async def test_ending_sessions_needs_users_write_and_no_more_power_than_the_caller(
    app: App,
) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.end_user_sessions.execute(ada, admin.user_id)
    with pytest.raises(UserNotFoundError):
        await app.end_user_sessions.execute(admin, UUID(int=404))
    assert (await app.principal_for(await app.log_in_as("root"))).user.is_admin
