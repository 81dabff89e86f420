"""Sensitive changes to one's own account need re-authentication; the old address hears
of them; reset mail cannot be starved by another client; an unlock lifts the sign-in
budget too."""

import dataclasses
from collections.abc import Callable
from uuid import UUID

import pytest

from application.access.use_cases.manage_api_keys import CreateApiKeyCommand
from application.errors import (
    InvalidCurrentPasswordError,
    PermissionDeniedError,
    RateLimitedError,
    ReauthenticationRequiredError,
)
from application.identity.attempts import LoginPolicy
from application.identity.throttle import Rate, ThrottlePolicy
from application.identity.use_cases.update_own_profile import UpdateOwnProfileCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.identity.user import User
from domain.identity.value_objects import Email, Username
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import audit_rows

WIDE = Rate(1000, 60)


async def stored_identity(app: App, user_id: UUID) -> tuple[Email, Username]:
    stored = await app.stored_user(user_id)
    assert stored is not None
    return stored.email, stored.username


@pytest.mark.parametrize(
    ("change", "after"),
    [({"email": "thief@example.net"}, 0), ({"username": "thief"}, 301)],
    ids=["email at once", "username once the sign-in is not recent"],
)
async def test_email_and_username_changes_need_the_current_password(
    app: App, change: dict[str, str], after: int
) -> None:
    ada = await app.signed_in("ada")
    app.clock.advance(seconds=after)  # REAUTH_WINDOW_SECONDS is 300 by default
    with pytest.raises(InvalidCurrentPasswordError) as missing:
        await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(**change))
    assert (missing.value.field, missing.value.detail_type) == (
        "current_password",
        "invalid_current_password",
    )
    with pytest.raises(InvalidCurrentPasswordError):
        await app.update_own_profile.execute(
            ada, UpdateOwnProfileCommand(**change, current_password="a guess")
        )
    assert await stored_identity(app, ada.user_id) == (Email("ada@example.com"), Username("ada"))

    await app.update_own_profile.execute(
        ada, UpdateOwnProfileCommand(**change, current_password=PASSWORD)
    )
    assert await stored_identity(app, ada.user_id) != (Email("ada@example.com"), Username("ada"))


async def test_the_full_name_alone_needs_no_password(app: App) -> None:
    ada = await app.signed_in("ada")
    updated = await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(full_name="Ada"))
    assert updated.full_name is not None
    assert await app.mailer.dispatch_due() == 0, "no notice"


async def test_wrong_passwords_on_a_profile_change_lock_the_account(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=3))
    ada = await app.signed_in("ada")
    for n in range(3):
        with pytest.raises(InvalidCurrentPasswordError):
            await app.update_own_profile.execute(
                ada, UpdateOwnProfileCommand(email="x@example.net", current_password=f"guess {n}")
            )
    refusals = await audit_rows(app, action="auth.reauthenticate")
    assert [(r.outcome.value, r.details) for r in refusals] == [
        ("failure", {"reason": "wrong_password"})
    ] * 3
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert stored.is_locked(app.clock.now())
    with pytest.raises(InvalidCurrentPasswordError):  # locked: the right one is no use now
        await app.update_own_profile.execute(
            ada, UpdateOwnProfileCommand(email="x@example.net", current_password=PASSWORD)
        )


async def test_the_old_address_is_told_of_an_email_change(app: App) -> None:
    ada = await app.signed_in("ada")
    await app.update_own_profile.execute(
        ada,
        UpdateOwnProfileCommand(
            email="ada@new.example", username="countess", current_password=PASSWORD
        ),
    )
    assert await app.mailer.dispatch_due() == 1
    [notice] = app.notifier.sent
    assert notice.to == "ada@example.com"
    assert "ada@example.com to ada@new.example" in notice.text
    assert "ada to countess" in notice.text
    assert "administrator" in notice.text
    assert "/reset-password" in notice.text
    assert PASSWORD not in notice.text


async def test_a_password_less_account_needs_a_recent_sign_in(app: App) -> None:
    user = await app.sign_up("fed")
    pair = await app.log_in_as("fed")
    # As if it signed in through a provider: no password to type.
    await app.change_stored_user(user.id, _no_password)
    fed = await app.principal_for(pair)
    await app.update_own_profile.execute(fed, UpdateOwnProfileCommand(username="fed2"))

    app.clock.advance(seconds=301)  # REAUTH_WINDOW_SECONDS is 300 by default
    fed = await app.principal_for(pair)
    with pytest.raises(ReauthenticationRequiredError) as caught:
        await app.update_own_profile.execute(fed, UpdateOwnProfileCommand(username="fed3"))
    assert caught.value.detail_type == "reauthentication_required"
    with pytest.raises(ReauthenticationRequiredError):
        await app.create_api_key.execute(fed, CreateApiKeyCommand(name="k", scopes=[]))
    assert (await stored_identity(app, user.id))[1] == Username("fed2")


def _no_password(user: User) -> None:
    user.password_hash = None


async def test_a_recent_sign_in_stands_in_for_the_password_for_a_username_or_a_key(
    app: App,
) -> None:
    ada = await app.signed_in("ada")
    await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(username="countess"))
    await app.create_api_key.execute(ada, CreateApiKeyCommand(name="k", scopes=[]))
    with pytest.raises(InvalidCurrentPasswordError):  # a password sent is still checked
        await app.create_api_key.execute(
            ada, CreateApiKeyCommand(name="k2", scopes=[], current_password="a guess")
        )
    with pytest.raises(InvalidCurrentPasswordError):  # the email is never "sudo mode"
        await app.update_own_profile.execute(ada, UpdateOwnProfileCommand(email="x@example.net"))
    assert await stored_identity(app, ada.user_id) == (
        Email("ada@example.com"),
        Username("countess"),
    )


async def test_an_api_key_needs_the_current_password(app: App) -> None:
    ada = await app.signed_in("ada")
    app.clock.advance(seconds=301)  # the sign-in is no longer recent
    for password in (None, "a guess"):
        with pytest.raises(InvalidCurrentPasswordError):
            await app.create_api_key.execute(
                ada, CreateApiKeyCommand(name="k", scopes=[], current_password=password)
            )
    assert await app.list_api_keys.execute(ada) == []
    issued = await app.create_api_key.execute(
        ada, CreateApiKeyCommand(name="k", scopes=[], current_password=PASSWORD)
    )
    assert [k.id for k in await app.list_api_keys.execute(ada)] == [issued.key.id]


def budgets(**given: Rate) -> ThrottlePolicy:
    """Every budget wide but the ones given."""
    wide = {f.name: WIDE for f in dataclasses.fields(ThrottlePolicy) if f.name != "enabled"}
    return ThrottlePolicy(**{**wide, **given})


def mail_budgets(make_app: Callable[..., App]) -> App:
    policy = budgets(reset_per_email_client=Rate(3, 3600), reset_per_email=Rate(10, 3600))
    return make_app(throttle_policy=policy)


def from_ip(app: App, ip: str) -> None:
    app.context.meta = type(app.context.meta)(ip=ip)


async def test_one_client_spending_an_addresss_mail_budget_leaves_others_theirs(
    make_app: Callable[..., App],
) -> None:
    app = mail_budgets(make_app)
    from_ip(app, "198.51.100.66")  # the attacker
    for _ in range(3):
        await app.request_password_reset.admit("ada@example.com")
    for _ in range(20):  # its refusals cost the shared ceiling nothing
        with pytest.raises(RateLimitedError):
            await app.request_password_reset.admit("ada@example.com")
    from_ip(app, "203.0.113.20")  # the owner
    await app.request_password_reset.admit("ada@example.com")


async def test_all_clients_together_meet_a_ceiling_that_refills_within_minutes(
    make_app: Callable[..., App],
) -> None:
    app = mail_budgets(make_app)
    for n in range(5):  # many clients, two mails each: ten in all
        from_ip(app, f"198.51.100.{n}")
        for _ in range(2):
            await app.request_password_reset.admit("ada@example.com")
    from_ip(app, "203.0.113.20")
    with pytest.raises(RateLimitedError) as caught:
        await app.request_password_reset.admit("ada@example.com")
    assert caught.value.retry_after == 360  # one mail more every 3600 / 10 seconds
    app.clock.advance(seconds=360)
    await app.request_password_reset.admit("ada@example.com")


async def test_an_unlock_lifts_the_sign_in_budget(make_app: Callable[..., App]) -> None:
    app = make_app(throttle_policy=budgets(login_per_account=Rate(2, 60)))
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.log_in_as("ada")
    await app.log_in_as("ada")
    with pytest.raises(RateLimitedError):
        await app.log_in_as("ada")
    await app.unlock_user.execute(admin, ada.id)
    await app.log_in_as("ada")


async def test_an_administrator_changes_their_own_email_where_the_password_is_asked(
    app: App,
) -> None:
    admin = await app.admin()
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(
            admin, admin.user_id, UpdateUserCommand(email="thief@example.net")
        )
    with pytest.raises(PermissionDeniedError):
        await app.update_user.execute(admin, admin.user_id, UpdateUserCommand(username="thief"))
    kept = await app.update_user.execute(admin, admin.user_id, UpdateUserCommand(full_name="Root"))
    assert kept.email == Email("root@example.com")


async def test_an_administrators_change_of_an_address_tells_the_old_one(app: App) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(email="ada@new.example"))
    assert await app.mailer.dispatch_due() == 1
    [notice] = app.notifier.sent
    assert notice.to == "ada@example.com"
    assert "ada@example.com to ada@new.example" in notice.text
