"""API keys: issued once, scoped to what the owner holds (then and now), refused when
expired, revoked, malformed or unknown, and never a substitute for a login session."""

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from application.access.use_cases.authenticate_api_key import AuthenticateApiKeyCommand
from application.access.use_cases.manage_api_keys import CreateApiKeyCommand, IssuedApiKey
from application.common.security import Principal
from application.errors import (
    ApiKeyNotFoundError,
    AuthenticationError,
    PermissionDeniedError,
    SessionRequiredError,
)
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.update_own_profile import UpdateOwnProfileCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.access.permissions import Permission, UnknownPermissionError
from domain.common.errors import InvalidValueError
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import audit_rows, define_role, member_of

READ, WRITE = Permission.USERS_READ, Permission.USERS_WRITE
MANAGE_KEYS = Permission.API_KEYS_MANAGE
KEY_FORMAT = re.compile(r"^hx_[0-9a-f]{12}_[A-Za-z0-9]{43}$")


async def issue(
    app: App,
    owner: Principal,
    *scopes: str,
    name: str = "ci",
    expires_at: datetime | None = None,
) -> IssuedApiKey:
    return await app.create_api_key.execute(
        owner,
        CreateApiKeyCommand(
            name=name, scopes=list(scopes), expires_at=expires_at, current_password=PASSWORD
        ),
    )


async def use(app: App, key: str) -> Principal:
    return await app.authenticate_api_key.execute(AuthenticateApiKeyCommand(key=key))


async def support_agent(app: App) -> tuple[Principal, Principal]:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    return admin, await member_of(app, admin, "sam", "support")


# --- CreateApiKey -------------------------------------------------------------------------


async def test_a_key_is_returned_once_and_acts_as_its_owner(app: App) -> None:
    _, sam = await support_agent(app)
    issued = await issue(app, sam, "users:read", name="  nightly export ")

    assert KEY_FORMAT.match(issued.secret)
    assert issued.key.name == "nightly export"
    assert issued.key.owner_id == sam.user_id
    assert issued.key.prefix in issued.secret
    [listed] = await app.list_api_keys.execute(sam)
    assert listed.id == issued.key.id
    assert not hasattr(listed, "secret")
    assert issued.secret.rsplit("_", 1)[1] not in repr(listed)
    assert listed.secret_hash != issued.secret

    caller = await use(app, issued.secret)
    assert caller.user_id == sam.user_id
    assert caller.api_key_id == issued.key.id
    assert caller.session_id is None
    assert caller.permissions == {READ}
    [row] = await audit_rows(app, action="api_key.created")
    assert (row.actor_id, row.target_id) == (sam.user_id, str(issued.key.id))
    assert row.details == {"owner_id": str(sam.user_id)}


async def test_every_key_is_different(app: App) -> None:
    ada = await app.signed_in("ada")
    first, second = await issue(app, ada), await issue(app, ada)
    assert first.secret != second.secret
    assert first.key.prefix != second.key.prefix


async def test_scopes_must_be_held_by_the_creator(app: App) -> None:
    _, sam = await support_agent(app)
    for scopes in (["audit:read"], ["users:read", "roles:manage"]):
        with pytest.raises(PermissionDeniedError) as caught:
            await issue(app, sam, *scopes)
        assert caught.value.code == "forbidden"
    assert await app.list_api_keys.execute(sam) == []


async def test_a_plain_user_may_only_issue_a_key_without_scopes(app: App) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(PermissionDeniedError):
        await issue(app, ada, "users:read")
    issued = await issue(app, ada)
    caller = await use(app, issued.secret)
    assert (caller.user_id, caller.permissions) == (ada.user_id, frozenset())


async def test_an_unknown_scope_is_a_validation_error(app: App) -> None:
    admin = await app.admin()
    with pytest.raises(UnknownPermissionError) as caught:
        await issue(app, admin, "users:read", "users:*")
    assert caught.value.code == "validation_error"
    assert caught.value.field == "scopes"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there"])
async def test_a_key_needs_a_printable_name_of_1_to_100_characters(app: App, name: str) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(InvalidValueError) as caught:
        await issue(app, ada, name=name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1)])
async def test_an_expiry_must_lie_in_the_future(app: App, offset: timedelta) -> None:
    ada = await app.signed_in("ada")
    with pytest.raises(InvalidValueError) as caught:
        await issue(app, ada, expires_at=app.clock.now() + offset)
    assert caught.value.field == "expires_at"
    assert await app.list_api_keys.execute(ada) == []


# --- AuthenticateApiKey ---------------------------------------------------------------------


async def test_a_key_works_until_the_second_it_expires(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada, expires_at=app.clock.now() + timedelta(hours=1))
    app.clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    await use(app, issued.secret)
    app.clock.advance(seconds=1)
    with pytest.raises(AuthenticationError) as caught:
        await use(app, issued.secret)
    assert caught.value.code == "unauthorized"


async def test_a_revoked_key_is_refused_at_once(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    await use(app, issued.secret)
    await app.revoke_api_key.execute(ada, issued.key.id)
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)
    [row] = await audit_rows(app, action="api_key.revoked")
    assert (row.actor_id, row.target_id) == (ada.user_id, str(issued.key.id))


async def test_a_warm_key_reads_no_key_row(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    await use(app, issued.secret)  # the first use is recorded, and drops the cached key
    await use(app, issued.secret)  # read again, and cached
    del app.store.committed.api_keys[issued.key.id]  # the row is not read again
    assert (await use(app, issued.secret)).api_key_id == issued.key.id


async def revoke_key(app: App, admin: Principal, issued: IssuedApiKey) -> None:
    await app.revoke_api_key.execute(admin, issued.key.id)


async def deactivate_owner(app: App, admin: Principal, issued: IssuedApiKey) -> None:
    await app.update_user.execute(admin, issued.key.owner_id, UpdateUserCommand(is_active=False))


async def delete_owner(app: App, admin: Principal, issued: IssuedApiKey) -> None:
    await app.delete_user.execute(admin, issued.key.owner_id)


@pytest.mark.parametrize("change", [revoke_key, deactivate_owner, delete_owner])
async def test_a_warm_key_is_refused_on_the_next_request_after(
    app: App, change: Callable[[App, Principal, IssuedApiKey], Awaitable[None]]
) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    for _ in range(2):  # the second use is served from the cache
        await use(app, issued.secret)
    await change(app, admin, issued)
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)


async def test_a_warm_key_still_expires_to_the_second(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada, expires_at=app.clock.now() + timedelta(minutes=5))
    for _ in range(2):
        await use(app, issued.secret)
    app.clock.advance(timedelta(minutes=5))
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: "garbage",
        lambda key: "",
        lambda key: key[:-1],
        lambda key: key.replace("hx_", "hy_", 1),
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda key: "hx_" + "0" * 12 + key[15:],  # unknown prefix
    ],
)
async def test_malformed_unknown_and_forged_keys_are_refused_alike(
    app: App, tamper: Callable[[str], str]
) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    with pytest.raises(AuthenticationError) as caught:
        await use(app, tamper(issued.secret))
    assert caught.value.message == "invalid API key"
    assert await audit_rows(app, action="api_key.first_used") == []


async def test_a_key_loses_what_its_owner_loses_on_the_next_request(app: App) -> None:
    admin, sam = await support_agent(app)
    issued = await issue(app, sam, "users:read", "users:write")
    assert (await use(app, issued.secret)).permissions == {READ, WRITE}

    await app.assign_roles.execute(admin, sam.user_id, ["auditor"])
    assert (await use(app, issued.secret)).permissions == {READ}

    await app.assign_roles.execute(admin, sam.user_id, ["user"])
    assert (await use(app, issued.secret)).permissions == frozenset()

    # A promotion never widens a key past its scopes.
    await app.assign_roles.execute(admin, sam.user_id, ["admin"])
    assert (await use(app, issued.secret)).permissions == {READ, WRITE}


async def test_an_inactive_owners_keys_stop_working(app: App) -> None:
    admin, sam = await support_agent(app)
    issued = await issue(app, sam, "users:read")
    await app.update_user.execute(admin, sam.user_id, UpdateUserCommand(is_active=False))
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)
    await app.update_user.execute(admin, sam.user_id, UpdateUserCommand(is_active=True))
    assert (await use(app, issued.secret)).user_id == sam.user_id


async def test_a_deleted_owners_keys_stop_working(app: App) -> None:
    admin, sam = await support_agent(app)
    issued = await issue(app, sam, "users:read")
    await app.delete_user.execute(admin, sam.user_id)
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)


async def test_the_first_use_is_audited_once(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    app.context.meta = type(app.context.meta)(ip="198.51.100.4", user_agent="cron", request_id="k")
    for _ in range(3):
        await use(app, issued.secret)
        app.clock.advance(seconds=120)
    [row] = await audit_rows(app, action="api_key.first_used")
    assert (row.actor_id, row.target_id) == (ada.user_id, str(issued.key.id))
    assert (row.ip, row.user_agent, row.request_id) == ("198.51.100.4", "cron", "k")


async def test_last_use_is_written_at_most_once_a_minute(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)

    async def last_used() -> object:
        [key] = await app.list_api_keys.execute(ada)
        return key.last_used_at

    assert await last_used() is None
    first = app.clock.now()
    await use(app, issued.secret)
    assert await last_used() == first
    app.clock.advance(seconds=59)
    await use(app, issued.secret)
    assert await last_used() == first
    app.clock.advance(seconds=1)
    await use(app, issued.secret)
    assert await last_used() == first + timedelta(seconds=60)


# --- what a key may not do ----------------------------------------------------------------


async def test_a_key_cannot_do_what_needs_a_login_session(app: App) -> None:
    admin = await app.admin()
    issued = await issue(app, admin, *[p.value for p in Permission])
    caller = await use(app, issued.secret)
    assert admin.session_id is not None

    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: app.create_api_key.execute(caller, CreateApiKeyCommand(name="kid", scopes=[])),
        lambda: app.change_password.execute(
            caller,
            ChangePasswordCommand(current_password=PASSWORD, new_password="brand new secret"),
        ),
        lambda: app.list_own_sessions.execute(caller),
        lambda: app.revoke_own_session.execute(caller, admin.session_id),  # type: ignore[arg-type]
        lambda: app.log_out.execute(caller),
        lambda: app.update_own_profile.execute(caller, UpdateOwnProfileCommand(full_name="K")),
    ]
    for attempt in attempts:
        with pytest.raises(SessionRequiredError) as caught:
            await attempt()
        assert caught.value.code == "forbidden"

    assert [k.id for k in await app.list_api_keys.execute(admin)] == [issued.key.id]
    assert (await app.principal_for(await app.log_in_as("root"))).user_id == admin.user_id
    assert len(await app.list_own_sessions.execute(admin)) == 2


# --- ListApiKeys / RevokeApiKey -------------------------------------------------------------


async def test_a_user_lists_their_own_keys_newest_first(app: App) -> None:
    ada, bob = await app.signed_in("ada"), await app.signed_in("bob")
    first = await issue(app, ada, name="first")
    app.clock.advance(seconds=1)
    second = await issue(app, ada, name="second")
    await issue(app, bob, name="bob's")

    assert [k.id for k in await app.list_api_keys.execute(ada)] == [second.key.id, first.key.id]
    own = await app.list_api_keys.execute(ada, owner_id=ada.user_id)
    assert [k.id for k in own] == [second.key.id, first.key.id]


async def test_other_peoples_keys_are_listed_only_with_api_keys_manage(app: App) -> None:
    admin = await app.admin()
    ada, bob = await app.signed_in("ada"), await app.signed_in("bob")
    bobs = await issue(app, bob)
    adas = await issue(app, ada)

    with pytest.raises(PermissionDeniedError, match="api_keys:manage"):
        await app.list_api_keys.execute(ada, owner_id=bob.user_id)
    with pytest.raises(PermissionDeniedError, match="api_keys:manage"):
        await app.list_api_keys.execute(ada, everyone=True)

    assert [k.id for k in await app.list_api_keys.execute(admin, owner_id=bob.user_id)] == [
        bobs.key.id
    ]
    everyone = await app.list_api_keys.execute(admin, everyone=True)
    assert {k.id for k in everyone} == {bobs.key.id, adas.key.id}


async def test_a_manager_revokes_anyones_key(app: App) -> None:
    admin = await app.admin()
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    await app.revoke_api_key.execute(admin, issued.key.id)
    with pytest.raises(AuthenticationError):
        await use(app, issued.secret)
    [row] = await audit_rows(app, action="api_key.revoked")
    assert row.actor_id == admin.user_id
    assert row.details == {"owner_id": str(ada.user_id)}


async def test_someone_elses_key_is_not_found_and_keeps_working(app: App) -> None:
    ada, bob = await app.signed_in("ada"), await app.signed_in("bob")
    issued = await issue(app, ada)
    with pytest.raises(ApiKeyNotFoundError) as caught:
        await app.revoke_api_key.execute(bob, issued.key.id)
    assert caught.value.code == "not_found"
    with pytest.raises(ApiKeyNotFoundError):
        await app.revoke_api_key.execute(bob, UUID(int=99))
    assert (await use(app, issued.secret)).user_id == ada.user_id
    assert await audit_rows(app, action="api_key.revoked") == []


async def test_revoking_twice_is_harmless_and_audited_once(app: App) -> None:
    ada = await app.signed_in("ada")
    issued = await issue(app, ada)
    await app.revoke_api_key.execute(ada, issued.key.id)
    revoked_at = (await app.list_api_keys.execute(ada))[0].revoked_at
    app.clock.advance(seconds=10)
    await app.revoke_api_key.execute(ada, issued.key.id)
    assert (await app.list_api_keys.execute(ada))[0].revoked_at == revoked_at
    assert len(await audit_rows(app, action="api_key.revoked")) == 1
