"""Roles: who may read and change them, no escalation through them, built-ins fixed, and
what a rename or a deletion does to the people holding the role."""

import pytest

from application.access.use_cases.manage_roles import ChangeRoleCommand, CreateRoleCommand
from application.errors import PermissionDeniedError, RoleExistsError, RoleNotFoundError
from domain.access.permissions import ALL_PERMISSIONS, Permission, UnknownPermissionError
from domain.access.roles import BuiltinRoleError, InvalidRoleNameError
from domain.audit.entries import Outcome
from tests.unit.application.conftest import App
from tests.unit.application.steps import audit_rows, define_role, member_of

READ, WRITE = Permission.USERS_READ, Permission.USERS_WRITE
MANAGE, AUDIT = Permission.ROLES_MANAGE, Permission.AUDIT_READ


# --- ListRoles / GetRole ----------------------------------------------------------------


async def test_a_plain_user_cannot_read_roles(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError, match="users:read"):
        await app.list_roles.execute(ada)
    with pytest.raises(PermissionDeniedError):
        await app.get_role.execute(ada, "admin")


async def test_roles_are_listed_built_ins_first_with_what_they_grant(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    auditor = await member_of(app, admin, "audrey", "auditor")

    roles = await app.list_roles.execute(auditor)

    assert [(r.name, r.builtin) for r in roles] == [
        ("admin", True),
        ("auditor", True),
        ("user", True),
        ("support", False),
    ]
    granted = {r.name: r.permissions for r in roles}
    assert granted["admin"] == ALL_PERMISSIONS
    assert granted["auditor"] == {READ, AUDIT, Permission.RELEASES_READ}
    assert granted["user"] == frozenset()
    assert granted["support"] == {READ, WRITE}


async def test_roles_manage_alone_is_enough_to_read_roles(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "role-keeper", "roles:manage")
    keeper = await member_of(app, admin, "keeper", "role-keeper")
    assert keeper.permissions == {MANAGE}

    assert "role-keeper" in [r.name for r in await app.list_roles.execute(keeper)]
    assert (await app.get_role.execute(keeper, "ROLE-KEEPER")).permissions == {MANAGE}


async def test_an_unknown_role_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(RoleNotFoundError) as caught:
        await app.get_role.execute(admin, "ghost")
    assert caught.value.code == "not_found"


# --- CreateRole ---------------------------------------------------------------------------


async def test_an_administrator_creates_a_role_and_it_is_audited(app: App) -> None:
    admin = await app.admin()
    role = await app.create_role.execute(
        admin, CreateRoleCommand(name=" Support ", permissions=["users:read", "users:read"])
    )
    assert role.name == "support"
    assert role.permissions == {READ}
    assert not role.builtin
    assert await app.get_role.execute(admin, "support") == role

    [row] = await audit_rows(app, action="role.created")
    assert (row.actor_id, row.target_id, row.outcome) == (admin.user_id, "support", Outcome.SUCCESS)


async def test_creating_a_role_needs_roles_manage(app: App) -> None:
    admin = await app.admin()
    auditor = await member_of(app, admin, "audrey", "auditor")
    with pytest.raises(PermissionDeniedError, match="roles:manage"):
        await define_role(app, auditor, "readers", "users:read")
    with pytest.raises(RoleNotFoundError):
        await app.get_role.execute(admin, "readers")


async def test_nobody_creates_a_role_more_powerful_than_themselves(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "role-keeper", "roles:manage", "users:read")
    keeper = await member_of(app, admin, "keeper", "role-keeper")

    with pytest.raises(PermissionDeniedError, match="users:write") as caught:
        await define_role(app, keeper, "writers", "users:read", "users:write")
    assert caught.value.code == "forbidden"
    with pytest.raises(RoleNotFoundError):
        await app.get_role.execute(admin, "writers")
    assert await audit_rows(app, action="role.created", actor_id=keeper.user_id) == []

    # What the keeper does hold may be handed out.
    readers = await define_role(app, keeper, "readers", "users:read")
    assert readers.permissions == {READ}


@pytest.mark.parametrize("name", ["admin", "AUDITOR", "support", " Support "])
async def test_a_taken_role_name_is_a_conflict(app: App, name: str) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    with pytest.raises(RoleExistsError) as caught:
        await define_role(app, admin, name, "audit:read")
    assert caught.value.code == "conflict"
    assert (await app.get_role.execute(admin, "support")).permissions == {READ}
    assert (await app.get_role.execute(admin, "auditor")).permissions == {
        READ,
        AUDIT,
        Permission.RELEASES_READ,
    }


async def test_an_unknown_permission_is_refused_not_dropped(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UnknownPermissionError) as caught:
        await define_role(app, admin, "support", "users:read", "users:delete")
    assert caught.value.code == "validation_error"
    assert caught.value.field == "permissions"
    assert "users:delete" in caught.value.message
    with pytest.raises(RoleNotFoundError):
        await app.get_role.execute(admin, "support")


@pytest.mark.parametrize("name", ["x", "9lives", "has space", "a" * 33, "ünïcode", ""])
async def test_a_role_name_outside_the_rules_is_refused(app: App, name: str) -> None:
    admin = await app.admin()
    with pytest.raises(InvalidRoleNameError) as caught:
        await define_role(app, admin, name, "users:read")
    assert caught.value.code == "validation_error"
    assert caught.value.field == "name"


# --- ChangeRole ---------------------------------------------------------------------------


async def test_a_renamed_role_follows_its_holders_who_keep_its_permissions(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    await app.sign_up("sam")
    pair = await app.log_in_as("sam")
    sam = await app.principal_for(pair)
    await app.assign_roles.execute(admin, sam.user_id, ["user", "support"])

    renamed = await app.change_role.execute(admin, "support", ChangeRoleCommand(name="helpdesk"))

    assert renamed.name == "helpdesk"
    stored = await app.stored_user(sam.user_id)
    assert stored is not None
    assert stored.roles == {"user", "helpdesk"}
    assert (await app.principal_for(pair)).permissions == {READ, WRITE}
    with pytest.raises(RoleNotFoundError):
        await app.get_role.execute(admin, "support")
    [row] = await audit_rows(app, action="role.updated")
    assert row.target_id == "helpdesk"
    assert row.actor_id == admin.user_id
    assert row.details == {"previous_name": "support", "fields": "name"}


async def test_new_permissions_act_on_the_holders_next_request(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    await member_of(app, admin, "sam", "support")
    pair = await app.log_in_as("sam")
    assert (await app.principal_for(pair)).permissions == {READ, WRITE}

    await app.change_role.execute(admin, "Support", ChangeRoleCommand(permissions=["users:read"]))

    sam = await app.principal_for(pair)
    assert sam.permissions == {READ}
    with pytest.raises(PermissionDeniedError):
        await app.unlock_user.execute(sam, admin.user_id)


async def test_nobody_edits_a_role_more_powerful_than_themselves(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "role-keeper", "roles:manage", "users:read")
    await define_role(app, admin, "support", "users:read", "users:write")
    await define_role(app, admin, "readers", "users:read")
    keeper = await member_of(app, admin, "keeper", "role-keeper")

    # Even narrowing or renaming a role is refused while it grants what the keeper lacks.
    for change in (
        ChangeRoleCommand(permissions=["users:read"]),
        ChangeRoleCommand(name="helpdesk"),
    ):
        with pytest.raises(PermissionDeniedError, match="users:write"):
            await app.change_role.execute(keeper, "support", change)
    # Nor may a role be widened past what the keeper holds.
    with pytest.raises(PermissionDeniedError, match="audit:read"):
        await app.change_role.execute(
            keeper, "readers", ChangeRoleCommand(permissions=["users:read", "audit:read"])
        )

    assert (await app.get_role.execute(admin, "support")).permissions == {READ, WRITE}
    assert (await app.get_role.execute(admin, "readers")).permissions == {READ}
    assert await audit_rows(app, action="role.updated") == []
    renamed = await app.change_role.execute(keeper, "readers", ChangeRoleCommand(name="viewers"))
    assert renamed.name == "viewers"


async def test_changing_a_role_needs_roles_manage(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "readers", "users:read")
    auditor = await member_of(app, admin, "audrey", "auditor")
    with pytest.raises(PermissionDeniedError, match="roles:manage"):
        await app.change_role.execute(auditor, "readers", ChangeRoleCommand(name="viewers"))


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("admin", ChangeRoleCommand(name="root")),
        ("user", ChangeRoleCommand(permissions=["users:read"])),
        ("auditor", ChangeRoleCommand(permissions=[])),
    ],
)
async def test_built_in_roles_cannot_change(app: App, name: str, change: ChangeRoleCommand) -> None:
    admin = await app.admin()
    before = await app.get_role.execute(admin, name)
    with pytest.raises(BuiltinRoleError) as caught:
        await app.change_role.execute(admin, name, change)
    assert caught.value.code == "conflict"
    after = await app.get_role.execute(admin, name)
    assert (after.name, after.permissions, after.builtin) == (name, before.permissions, True)
    assert await audit_rows(app, action="role.updated") == []


async def test_renaming_onto_a_taken_name_is_a_conflict(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    await define_role(app, admin, "readers", "users:read")
    for taken in ("readers", "admin"):
        with pytest.raises(RoleExistsError):
            await app.change_role.execute(admin, "support", ChangeRoleCommand(name=taken))
    assert {r.name for r in await app.list_roles.execute(admin)} >= {"support", "readers"}


async def test_changing_an_unknown_role_is_not_found(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(RoleNotFoundError):
        await app.change_role.execute(admin, "ghost", ChangeRoleCommand(name="spirit"))


async def test_a_change_that_changes_nothing_is_not_audited(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    same = await app.change_role.execute(
        admin, "support", ChangeRoleCommand(name="SUPPORT", permissions=["users:read"])
    )
    assert (same.name, same.permissions) == ("support", frozenset({READ}))
    assert await audit_rows(app, action="role.updated") == []


async def test_an_unknown_permission_in_a_change_is_refused(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    with pytest.raises(UnknownPermissionError):
        await app.change_role.execute(
            admin, "support", ChangeRoleCommand(permissions=["everything"])
        )
    assert (await app.get_role.execute(admin, "support")).permissions == {READ}


# --- DeleteRole ---------------------------------------------------------------------------


async def test_deleting_a_role_takes_it_and_its_permissions_from_its_holders(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    await member_of(app, admin, "sam", "user", "support")
    pair = await app.log_in_as("sam")

    await app.delete_role.execute(admin, "SUPPORT")

    sam = await app.principal_for(pair)
    assert sam.permissions == frozenset()
    stored = await app.stored_user(sam.user_id)
    assert stored is not None
    assert stored.roles == {"user"}
    with pytest.raises(RoleNotFoundError):
        await app.get_role.execute(admin, "support")
    [row] = await audit_rows(app, action="role.deleted")
    assert (row.actor_id, row.target_id) == (admin.user_id, "support")


@pytest.mark.parametrize("name", ["admin", "user", "auditor"])
async def test_built_in_roles_cannot_be_deleted(app: App, name: str) -> None:
    admin = await app.admin()
    with pytest.raises(BuiltinRoleError):
        await app.delete_role.execute(admin, name)
    assert (await app.get_role.execute(admin, name)).builtin
    assert (await app.principal_for(await app.log_in_as("root"))).permissions == ALL_PERMISSIONS
    assert await audit_rows(app, action="role.deleted") == []


async def test_nobody_deletes_a_role_more_powerful_than_themselves(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "role-keeper", "roles:manage", "users:read")
    await define_role(app, admin, "support", "users:read", "users:write")
    keeper = await member_of(app, admin, "keeper", "role-keeper")
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.delete_role.execute(keeper, "support")
    assert (await app.get_role.execute(admin, "support")).permissions == {READ, WRITE}


async def test_deleting_a_role_needs_roles_manage_and_an_existing_role(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "readers", "users:read")
    auditor = await member_of(app, admin, "audrey", "auditor")
    with pytest.raises(PermissionDeniedError, match="roles:manage"):
        await app.delete_role.execute(auditor, "readers")
    with pytest.raises(RoleNotFoundError):
        await app.delete_role.execute(admin, "ghost")
    assert (await app.get_role.execute(admin, "readers")).name == "readers"
