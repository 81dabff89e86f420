"""Creating accounts: self-registration, administrator creation and the bootstrap admin."""

from collections.abc import Callable

import pytest

from application.errors import (
    EmailAlreadyRegisteredError,
    PermissionDeniedError,
    RegistrationDisabledError,
    UsernameTakenError,
)
from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
from application.identity.use_cases.create_user import CreateUserCommand
from application.identity.use_cases.register_user import RegisterUserCommand
from domain.access.roles import Role
from domain.common.errors import (
    InvalidEmailError,
    InvalidUsernameError,
    UnknownRoleError,
    WeakPasswordError,
)
from domain.identity.events import UserRegistered
from domain.identity.value_objects import Email, FullName, Username
from tests.unit.application.conftest import ADMIN_EMAIL, PASSWORD, App
from tests.unit.application.fakes import CountingPasswordHasher

# --- RegisterUser ----------------------------------------------------------------------


async def test_a_registered_user_is_a_plain_active_unverified_account(app: App) -> None:
    user = await app.register_user.execute(
        RegisterUserCommand(
            email="  Ada@Example.COM ",
            username="Ada",
            password=PASSWORD,
            full_name=" Ada Lovelace ",
        )
    )
    assert user.email == Email("ada@example.com")
    assert user.username == Username("ada")
    assert user.full_name == FullName("Ada Lovelace")
    assert user.roles == {Role.USER}
    assert (user.is_active, user.is_verified) == (True, False)
    assert user.created_at == app.clock.now()
    stored = await app.stored_user(user.id)
    assert stored is not None
    assert stored.email == Email("ada@example.com")


async def test_the_password_is_stored_only_as_a_hash(app: App) -> None:
    user = await app.sign_up("ada")
    assert user.password_hash is not None
    assert PASSWORD not in user.password_hash
    assert await app.hasher.verify(user.password_hash, PASSWORD)


async def test_registration_announces_user_registered(app: App) -> None:
    user = await app.sign_up("ada")
    assert app.events.events == [UserRegistered(occurred_at=app.clock.now(), user_id=user.id)]


async def test_registration_can_be_switched_off(make_app: Callable[..., App]) -> None:
    app = make_app(registration_enabled=False)
    with pytest.raises(RegistrationDisabledError) as caught:
        await app.sign_up("ada")
    assert caught.value.code == "forbidden"
    assert app.hasher.calls["hash"] == 0
    assert app.events.events == []


async def test_an_email_is_registered_once_whatever_its_case(app: App) -> None:
    await app.sign_up("ada")
    with pytest.raises(EmailAlreadyRegisteredError) as caught:
        await app.register_user.execute(
            RegisterUserCommand(email="ADA@example.com", username="other", password=PASSWORD)
        )
    assert caught.value.code == "conflict"
    assert app.hasher.calls["hash"] == 1, "a taken email is refused before hashing"


async def test_a_username_is_taken_once_whatever_its_case(app: App) -> None:
    await app.sign_up("ada")
    with pytest.raises(UsernameTakenError):
        await app.register_user.execute(
            RegisterUserCommand(email="other@example.com", username="ADA", password=PASSWORD)
        )


async def test_a_registration_racing_with_another_is_refused_after_the_hash(
    make_app: Callable[..., App],
) -> None:
    hasher = CountingPasswordHasher()
    app = make_app(hasher=hasher)

    async def someone_else_registers_the_same_email() -> None:
        hasher.during_hash = None
        await app.register_user.execute(
            RegisterUserCommand(email="ada@example.com", username="quick", password=PASSWORD)
        )

    hasher.during_hash = someone_else_registers_the_same_email
    with pytest.raises(EmailAlreadyRegisteredError):
        await app.sign_up("ada")
    async with app.uow() as uow:
        holder = await uow.users.get_by_email(Email("ada@example.com"))
    assert holder is not None
    assert holder.username == Username("quick")


@pytest.mark.parametrize(
    ("command", "error", "field"),
    [
        (
            RegisterUserCommand(email="nope", username="ada", password=PASSWORD),
            InvalidEmailError,
            "email",
        ),
        (
            RegisterUserCommand(email="a@example.com", username="a!", password=PASSWORD),
            InvalidUsernameError,
            "username",
        ),
        (
            RegisterUserCommand(email="a@example.com", username="ada", password="short"),
            WeakPasswordError,
            "password",
        ),
        (
            RegisterUserCommand(email="a@example.com", username="ada", password="x" * 129),
            WeakPasswordError,
            "password",
        ),
    ],
)
async def test_invalid_input_is_refused_before_any_work(
    app: App, command: RegisterUserCommand, error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as caught:
        await app.register_user.execute(command)
    assert caught.value.field == field  # type: ignore[attr-defined]
    assert app.hasher.calls["hash"] == 0
    async with app.uow() as uow:
        assert await uow.users.get_by_username(Username("ada")) is None


async def test_an_empty_full_name_is_no_full_name(app: App) -> None:
    user = await app.sign_up("ada", full_name="")
    assert user.full_name is None


# --- CreateUser ----------------------------------------------------------------------


async def test_an_administrator_creates_an_account_with_roles_and_flags(
    make_app: Callable[..., App],
) -> None:
    app = make_app(registration_enabled=False)
    admin = await app.admin()
    user = await app.create_user.execute(
        admin,
        CreateUserCommand(
            email="ops@example.com",
            username="ops",
            password=PASSWORD,
            full_name="Ops Team",
            roles=["admin", "user"],
            is_active=False,
            is_verified=True,
        ),
    )
    assert user.roles == {Role.ADMIN, Role.USER}
    assert (user.is_active, user.is_verified) == (False, True)
    assert user.full_name == FullName("Ops Team")
    assert await app.stored_user(user.id) is not None


async def test_created_accounts_default_to_plain_users(app: App) -> None:
    admin = await app.admin()
    user = await app.create_user.execute(
        admin, CreateUserCommand(email="b@example.com", username="bob", password=PASSWORD)
    )
    assert user.roles == {Role.USER}
    assert (user.is_active, user.is_verified) == (True, False)


async def test_creating_accounts_needs_users_write(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError, match="users:write"):
        await app.create_user.execute(
            ada, CreateUserCommand(email="b@example.com", username="bob", password=PASSWORD)
        )
    async with app.uow() as uow:
        assert await uow.users.get_by_username(Username("bob")) is None


async def test_created_accounts_obey_the_registration_rules(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UsernameTakenError):
        await app.create_user.execute(
            admin, CreateUserCommand(email="x@example.com", username="root", password=PASSWORD)
        )
    with pytest.raises(UnknownRoleError):
        await app.create_user.execute(
            admin,
            CreateUserCommand(
                email="x@example.com", username="xavier", password=PASSWORD, roles=["superuser"]
            ),
        )
    with pytest.raises(WeakPasswordError):
        await app.create_user.execute(
            admin, CreateUserCommand(email="x@example.com", username="xavier", password="short")
        )


# --- BootstrapAdmin --------------------------------------------------------------------


async def test_bootstrap_creates_a_verified_administrator(app: App) -> None:
    admin = await app.bootstrap_admin.execute(
        BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
    )
    assert admin is not None
    assert admin.username == Username("admin")
    assert admin.roles == {Role.ADMIN, Role.USER}
    assert (admin.is_active, admin.is_verified) == (True, True)
    assert admin.password_hash is not None
    assert await app.hasher.verify(admin.password_hash, PASSWORD)


async def test_bootstrap_is_idempotent(app: App) -> None:
    command = BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
    first = await app.bootstrap_admin.execute(command)
    assert first is not None
    assert await app.bootstrap_admin.execute(command) is None
    other = BootstrapAdminCommand(email="second@example.com", password=PASSWORD, username="two")
    assert await app.bootstrap_admin.execute(other) is None
    async with app.uow() as uow:
        assert await uow.users.count_active_admins() == 1
    assert app.hasher.calls["hash"] == 1


async def test_bootstrap_runs_again_when_no_active_administrator_is_left(app: App) -> None:
    first = await app.bootstrap_admin.execute(
        BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
    )
    assert first is not None
    await app.change_stored_user(first.id, lambda u: u.update(now=app.clock.now(), is_active=False))
    second = await app.bootstrap_admin.execute(
        BootstrapAdminCommand(email="new-root@example.com", password=PASSWORD, username="newroot")
    )
    assert second is not None


async def test_of_two_instances_bootstrapping_side_by_side_one_creates_the_admin(
    app: App,
) -> None:
    command = BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
    created_by_the_other_instance: list[object] = []

    async def another_instance_bootstraps_meanwhile() -> None:
        created_by_the_other_instance.append(await app.bootstrap_admin.execute(command))

    app.hasher.during_hash = another_instance_bootstraps_meanwhile
    assert await app.bootstrap_admin.execute(command) is None
    assert created_by_the_other_instance[0] is not None
    async with app.uow() as uow:
        assert await uow.users.count_active_admins() == 1


async def test_bootstrap_with_a_taken_username_is_a_conflict(app: App) -> None:
    await app.sign_up("admin")
    with pytest.raises(UsernameTakenError):
        await app.bootstrap_admin.execute(
            BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD)
        )
