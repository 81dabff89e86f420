"""Handing out roles (AssignRoles, CreateUser, UpdateUser) without escalation, and lifting
a lockout (UnlockUser)."""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest

from application.common.security import Principal
from application.errors import (
    InvalidCredentialsError,
    LastAdministratorError,
    PermissionDeniedError,
    UserNotFoundError,
)
from application.identity.attempts import LoginPolicy
from application.identity.use_cases.create_user import CreateUserCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.access.permissions import ALL_PERMISSIONS, Permission
from domain.common.errors import UnknownRoleError
from domain.identity.value_objects import Username
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import audit_rows, define_role, member_of

READ, WRITE, AUDIT = Permission.USERS_READ, Permission.USERS_WRITE, Permission.AUDIT_READ
WRONG = "not the password"


async def support_desk(app: App) -> tuple[Principal, Principal]:
    """The administrator and a support agent whose custom role has users:read+write."""
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    return admin, await member_of(app, admin, "sam", "support")


async def username_taken(app: App, username: str) -> bool:
    async with app.uow() as uow:
        return await uow.users.get_by_username(Username(username)) is not None


# --- AssignRoles --------------------------------------------------------------------------


async def test_assigned_roles_act_on_the_accounts_next_request(app: App) -> None:
    admin = await app.admin()
    await app.sign_up("ada")
    pair = await app.log_in_as("ada")
    ada = await app.principal_for(pair)
    assert ada.permissions == frozenset()

    user = await app.assign_roles.execute(admin, ada.user_id, ["auditor", "User"])

    assert user.roles == {"auditor", "user"}
    assert (await app.principal_for(pair)).permissions == {READ, AUDIT, Permission.RELEASES_READ}
    [row] = await audit_rows(app, action="role.assigned")
    assert (row.actor_id, row.target_id) == (admin.user_id, str(ada.user_id))
    assert row.details == {"roles": "auditor,user"}


async def test_a_demotion_acts_on_the_next_request(app: App) -> None:
    admin = await app.admin()
    await member_of(app, admin, "deputy", "admin")
    pair = await app.log_in_as("deputy")
    deputy = await app.principal_for(pair)
    assert deputy.permissions == ALL_PERMISSIONS

    await app.assign_roles.execute(admin, deputy.user_id, ["user"])

    demoted = await app.principal_for(pair)
    assert demoted.permissions == frozenset()
    with pytest.raises(PermissionDeniedError):
        await app.assign_roles.execute(demoted, demoted.user_id, ["admin"])


async def test_a_support_agent_hands_out_only_what_they_hold(app: App) -> None:
    _, sam = await support_desk(app)
    ada = await app.sign_up("ada")

    for roles in (["admin"], ["auditor"], ["user", "admin"]):
        with pytest.raises(PermissionDeniedError) as caught:
            await app.assign_roles.execute(sam, ada.id, roles)
        assert caught.value.code == "forbidden"
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.roles == {"user"}

    granted = await app.assign_roles.execute(sam, ada.id, ["user", "support"])
    assert granted.roles == {"user", "support"}


async def test_nobody_raises_their_own_roles(app: App) -> None:
    _, sam = await support_desk(app)
    with pytest.raises(PermissionDeniedError, match="audit:read"):
        await app.assign_roles.execute(sam, sam.user_id, ["support", "auditor"])
    stored = await app.stored_user(sam.user_id)
    assert stored is not None
    assert stored.roles == {"support"}


async def test_an_auditor_cannot_assign_roles(app: App) -> None:
    admin = await app.admin()
    auditor = await member_of(app, admin, "audrey", "auditor")
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.assign_roles.execute(auditor, ada.user_id, ["user"])
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.assign_roles.execute(auditor, auditor.user_id, ["auditor", "user"])


async def test_assigning_an_unknown_role_is_refused(app: App) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    with pytest.raises(UnknownRoleError) as caught:
        await app.assign_roles.execute(admin, ada.user_id, ["user", "ghost"])
    assert caught.value.code == "validation_error"
    assert caught.value.field == "roles"
    assert "ghost" in caught.value.message


async def test_assigning_roles_to_an_unknown_account_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UserNotFoundError):
        await app.assign_roles.execute(admin, UUID(int=42), ["user"])


async def test_the_last_administrator_keeps_the_admin_role(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(LastAdministratorError) as caught:
        await app.assign_roles.execute(admin, admin.user_id, ["user"])
    assert caught.value.code == "conflict"
    assert (await app.principal_for(await app.log_in_as("root"))).permissions == ALL_PERMISSIONS
    assert await audit_rows(app, action="role.assigned") == []


async def test_an_administrator_may_step_down_while_another_remains(app: App) -> None:
    admin = await app.admin()
    await member_of(app, admin, "deputy", "admin")
    user = await app.assign_roles.execute(admin, admin.user_id, ["user"])
    assert user.roles == {"user"}


async def test_assigning_the_roles_already_held_changes_nothing(app: App) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    await app.assign_roles.execute(admin, ada.user_id, ["user"])
    assert await audit_rows(app, action="role.assigned") == []


# --- CreateUser / UpdateUser with roles ----------------------------------------------------


async def test_a_support_agent_creates_accounts_with_roles_they_may_grant(app: App) -> None:
    _, sam = await support_desk(app)
    user = await app.create_user.execute(
        sam,
        CreateUserCommand(
            email="new@example.com", username="newbie", password=PASSWORD, roles=["support"]
        ),
    )
    assert user.roles == {"support"}
    created = await app.principal_for(await app.log_in_as("newbie"))
    assert created.permissions == {READ, WRITE}


@pytest.mark.parametrize("roles", [["admin"], ["auditor"], ["user", "auditor"]])
async def test_a_support_agent_cannot_create_a_more_powerful_account(
    app: App, roles: list[str]
) -> None:
    _, sam = await support_desk(app)
    with pytest.raises(PermissionDeniedError):
        await app.create_user.execute(
            sam,
            CreateUserCommand(
                email="boss@example.com", username="boss", password=PASSWORD, roles=roles
            ),
        )
    assert not await username_taken(app, "boss")


async def test_an_account_cannot_be_created_with_an_unknown_role(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UnknownRoleError):
        await app.create_user.execute(
            admin,
            CreateUserCommand(
                email="ada@example.com", username="ada", password=PASSWORD, roles=["ghost"]
            ),
        )
    assert not await username_taken(app, "ada")
    assert app.hasher.calls["hash"] == 1, "only the administrator's password was hashed"


async def test_an_auditor_cannot_create_accounts(app: App) -> None:
    admin = await app.admin()
    auditor = await member_of(app, admin, "audrey", "auditor")
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.create_user.execute(
            auditor,
            CreateUserCommand(email="ada@example.com", username="ada", password=PASSWORD),
        )


async def test_updating_roles_obeys_the_same_rules(app: App) -> None:
    _, sam = await support_desk(app)
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(sam, ada.user_id, UpdateUserCommand(roles=["admin"]))
    with pytest.raises(UnknownRoleError):
        await app.update_user.execute(sam, ada.user_id, UpdateUserCommand(roles=["ghost"]))
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert stored.roles == {"user"}

    await app.update_user.execute(sam, ada.user_id, UpdateUserCommand(roles=["support"]))
    assert (await app.principal_for(await app.log_in_as("ada"))).permissions == {READ, WRITE}


async def test_a_demotion_through_update_user_acts_on_the_next_request(app: App) -> None:
    admin = await app.admin()
    await member_of(app, admin, "audrey", "auditor")
    pair = await app.log_in_as("audrey")
    assert (await app.principal_for(pair)).permissions == {READ, AUDIT, Permission.RELEASES_READ}

    await app.update_user.execute(
        admin, (await app.principal_for(pair)).user_id, UpdateUserCommand(roles=["user"])
    )

    assert (await app.principal_for(pair)).permissions == frozenset()


# --- UnlockUser ---------------------------------------------------------------------------


async def locked_out(app: App, username: str) -> UUID:
    user = await app.sign_up(username)
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as(username, password=WRONG)
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as(username)
    return user.id


async def test_unlocking_lets_the_right_password_in_at_once(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=3))
    admin = await app.admin()
    ada_id = await locked_out(app, "ada")

    unlocked = await app.unlock_user.execute(admin, ada_id)

    assert unlocked.locked_until is None
    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user_id == ada_id
    [row] = await audit_rows(app, action="account.unlocked")
    assert (row.actor_id, row.target_id) == (admin.user_id, str(ada_id))


async def test_unlocking_forgets_failures_and_earlier_locks(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=3, lockout_base=timedelta(minutes=1)))
    admin = await app.admin()
    ada_id = await locked_out(app, "ada")
    await app.unlock_user.execute(admin, ada_id)

    # Two failures after the unlock: the count started again from zero.
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as("ada", password=WRONG)
    await app.log_in_as("ada")
    # The next lock is the first again: one minute, not two.
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as("ada", password=WRONG)
    stored = await app.stored_user(ada_id)
    assert stored is not None
    assert stored.locked_until == app.clock.now() + timedelta(minutes=1)


async def test_unlocking_an_account_that_is_not_locked_changes_nothing(app: App) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    before = await app.stored_user(ada.user_id)
    app.clock.advance(seconds=5)
    after = await app.unlock_user.execute(admin, ada.user_id)
    assert before is not None
    assert after.updated_at == before.updated_at
    assert await audit_rows(app, action="account.unlocked") == []


async def test_unlocking_needs_users_write(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=3))
    admin = await app.admin()
    auditor = await member_of(app, admin, "audrey", "auditor")
    ada_id = await locked_out(app, "ada")
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.unlock_user.execute(auditor, ada_id)
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")


async def test_unlocking_an_unknown_account_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UserNotFoundError):
        await app.unlock_user.execute(admin, UUID(int=7))


# --- acting on an account more powerful than oneself ---------------------------------------


async def test_a_support_agent_cannot_redirect_an_administrators_email(app: App) -> None:
    admin, sam = await support_desk(app)
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(
            sam, admin.user_id, UpdateUserCommand(email="sam.inbox@example.com")
        )
    stored = await app.stored_user(admin.user_id)
    assert stored is not None
    assert stored.email.value == "root@example.com"
