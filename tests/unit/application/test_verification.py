"""Email verification and password reset by mailed single-use codes: one mail per
request, a code works once and only while the account is as it was when it was mailed."""

import unicodedata
from collections.abc import Callable
from datetime import timedelta

import pytest

from application.errors import InvalidCredentialsError, InvalidOneTimeTokenError, InvalidTokenError
from application.identity.attempts import LoginPolicy
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.register_user import RegisterUserCommand
from application.identity.use_cases.update_own_profile import UpdateOwnProfileCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from application.identity.use_cases.verification import ResetPasswordCommand, VerifyEmailCommand
from domain.common.errors import WeakPasswordError
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import audit_rows, code_in, delivered

NEW = "a brand new secret"


async def verification_code(app: App, username: str = "ada") -> str:
    """Ada signs up, logs in and asks for a verification mail; the code it carries."""
    principal = await app.signed_in(username)
    await app.request_email_verification.execute(principal)
    mail = (await delivered(app))[-1]
    return code_in(mail)


async def reset_code(app: App, email: str = "ada@example.com") -> str:
    await app.request_password_reset.execute(email)
    return code_in((await delivered(app))[-1])


async def reset(app: App, code: str, new_password: str = NEW) -> None:
    await app.reset_password.execute(ResetPasswordCommand(token=code, new_password=new_password))


async def verify(app: App, code: str) -> None:
    await app.verify_email.execute(VerifyEmailCommand(token=code))


# --- email verification --------------------------------------------------------------------


async def test_asking_for_verification_sends_one_mail_with_a_link(app: App) -> None:
    code = await verification_code(app)
    [mail] = app.notifier.sent
    assert mail.to == "ada@example.com"
    assert "Verify your email address" in mail.subject
    assert f"https://id.example.test/verify-email?token={code}" in mail.text
    assert "24 hours" in mail.text
    assert code.startswith("hxo_")
    assert await app.mailer.dispatch_due() == 0, "sent once, not again"


async def test_the_code_verifies_the_address_once(app: App) -> None:
    code = await verification_code(app)
    user = await app.verify_email.execute(VerifyEmailCommand(token=code))
    assert user.is_verified
    stored = await app.stored_user(user.id)
    assert stored is not None
    assert stored.is_verified
    [row] = await audit_rows(app, action="email.verified")
    assert (row.actor_id, row.target_id) == (user.id, str(user.id))

    with pytest.raises(InvalidOneTimeTokenError) as caught:
        await verify(app, code)
    assert caught.value.code == "invalid_token"
    assert len(await audit_rows(app, action="email.verified")) == 1


async def test_the_verification_code_expires_after_24_hours(app: App) -> None:
    code = await verification_code(app)
    app.clock.advance(timedelta(hours=24))
    with pytest.raises(InvalidOneTimeTokenError):
        await verify(app, code)


async def test_the_verification_code_works_until_just_before_24_hours(app: App) -> None:
    code = await verification_code(app)
    app.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert (await app.verify_email.execute(VerifyEmailCommand(token=code))).is_verified


async def test_the_verification_code_dies_when_the_email_changes(app: App) -> None:
    code = await verification_code(app)
    ada = await app.principal_for(await app.log_in_as("ada"))
    await app.update_own_profile.execute(
        ada, UpdateOwnProfileCommand(email="ada@elsewhere.example", current_password=PASSWORD)
    )
    with pytest.raises(InvalidOneTimeTokenError):
        await verify(app, code)
    stored = await app.stored_user(ada.user_id)
    assert stored is not None
    assert not stored.is_verified


async def test_an_already_verified_account_gets_no_mail(app: App) -> None:
    admin = await app.admin()
    await app.request_email_verification.execute(admin)
    assert await delivered(app) == []


async def test_garbage_and_a_reset_code_do_not_verify(app: App) -> None:
    await app.signed_in("ada")
    code = await reset_code(app)
    for token in ("hxo_nothing", code):
        with pytest.raises(InvalidOneTimeTokenError):
            await verify(app, token)
    await reset(app, code)  # the reset code was not burnt by the attempt


# --- password reset request ----------------------------------------------------------------


async def test_a_reset_request_mails_a_one_hour_link(app: App) -> None:
    await app.sign_up("ada")
    code = await reset_code(app, "ADA@example.com ")
    [mail] = app.notifier.sent
    assert mail.to == "ada@example.com"
    assert f"https://id.example.test/reset-password?token={code}" in mail.text
    assert "1 hour" in mail.text


async def test_a_reset_asked_for_in_another_spelling_reaches_the_account(app: App) -> None:
    await app.register_user.execute(
        RegisterUserCommand(email="zoë@bücher.example", username="zoe", password=PASSWORD)
    )
    await app.request_password_reset.execute(
        unicodedata.normalize("NFD", "Zoë@XN--BCHER-KVA.example")
    )
    [mail] = await delivered(app)
    assert mail.to == "zoë@bücher.example"


@pytest.mark.parametrize("email", ["nobody@example.com", "not an email", "bob@example.com"])
async def test_unknown_and_inactive_addresses_get_nothing(app: App, email: str) -> None:
    admin = await app.admin()
    bob = await app.sign_up("bob")
    await app.update_user.execute(admin, bob.id, UpdateUserCommand(is_active=False))
    await app.request_password_reset.execute(email)
    assert await delivered(app) == []


# --- password reset ------------------------------------------------------------------------


async def test_a_reset_sets_the_new_password_once(app: App) -> None:
    ada = await app.sign_up("ada")
    code = await reset_code(app)
    await reset(app, code)

    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")
    await app.log_in_as("ada", password=NEW)
    [row] = await audit_rows(app, action="password.reset")
    assert (row.actor_id, row.target_id) == (ada.id, str(ada.id))

    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, code, "yet another secret")
    await app.log_in_as("ada", password=NEW)


async def test_the_reset_code_expires_after_one_hour(app: App) -> None:
    await app.sign_up("ada")
    code = await reset_code(app)
    app.clock.advance(timedelta(hours=1))
    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, code)
    await app.log_in_as("ada")


async def test_the_reset_code_works_until_just_before_one_hour(app: App) -> None:
    await app.sign_up("ada")
    code = await reset_code(app)
    app.clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    await reset(app, code)
    await app.log_in_as("ada", password=NEW)


async def test_the_reset_code_dies_when_the_password_is_changed(app: App) -> None:
    ada = await app.signed_in("ada")
    code = await reset_code(app)
    await app.change_password.execute(
        ada, ChangePasswordCommand(current_password=PASSWORD, new_password="changed by the owner")
    )
    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, code)
    await app.log_in_as("ada", password="changed by the owner")


async def test_the_reset_code_dies_when_another_reset_is_used(app: App) -> None:
    await app.sign_up("ada")
    first = await reset_code(app)
    second = await reset_code(app)
    await reset(app, second)
    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, first, "a third secret!!")
    await app.log_in_as("ada", password=NEW)


async def test_a_reset_ends_every_session(app: App) -> None:
    await app.sign_up("ada")
    pairs = [await app.log_in_as("ada") for _ in range(2)]
    await reset(app, await reset_code(app))
    for pair in pairs:
        with pytest.raises(InvalidTokenError):
            await app.principal_for(pair)
    revoked = await audit_rows(app, action="session.revoked")
    assert sorted(r.details["session_id"] for r in revoked) == sorted(  # type: ignore[type-var]
        str(p.session_id) for p in pairs
    )
    assert {r.details["reason"] for r in revoked} == {"password_reset"}


async def test_a_reset_lifts_a_lockout(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=3))
    await app.sign_up("ada")
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as("ada", password="wrong guess")
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada")

    await reset(app, await reset_code(app))

    await app.log_in_as("ada", password=NEW)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("ADA-2024!", "username"),
        ("ada@example.com!!", "username or email"),
        ("qwertyuiop", "too common"),
        ("short", "at least 8"),
    ],
)
async def test_a_reset_enforces_the_password_rules_and_keeps_the_code(
    app: App, password: str, message: str
) -> None:
    await app.sign_up("ada")
    code = await reset_code(app)
    hashes = app.hasher.calls["hash"]
    with pytest.raises(WeakPasswordError, match=message) as caught:
        await reset(app, code, password)
    assert caught.value.field == "new_password"
    assert app.hasher.calls["hash"] == hashes, "refused before any hashing"
    await reset(app, code)  # a refused password does not burn the code
    await app.log_in_as("ada", password=NEW)


async def test_a_verification_code_or_garbage_does_not_reset(app: App) -> None:
    code = await verification_code(app)
    for token in (code, "hxo_nothing"):
        with pytest.raises(InvalidOneTimeTokenError):
            await reset(app, token)
    assert app.hasher.calls["hash"] == 1, "no hash for a bad code"
    await app.log_in_as("ada")
    await verify(app, code)


async def test_two_resets_racing_with_one_code_set_one_password(app: App) -> None:
    await app.sign_up("ada")
    code = await reset_code(app)

    async def the_other_request() -> None:
        await reset(app, code, "the first to commit")

    app.hasher.during_hash = the_other_request
    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, code, "the one that lost")
    await app.log_in_as("ada", password="the first to commit")
    assert len(await audit_rows(app, action="password.reset")) == 1


async def test_a_password_changed_while_the_reset_hashes_kills_the_reset(app: App) -> None:
    ada = await app.signed_in("ada")
    code = await reset_code(app)

    async def ada_changes_it_meanwhile() -> None:
        await app.change_password.execute(
            ada, ChangePasswordCommand(current_password=PASSWORD, new_password="changed meanwhile")
        )

    app.hasher.during_hash = ada_changes_it_meanwhile
    with pytest.raises(InvalidOneTimeTokenError):
        await reset(app, code)
    await app.log_in_as("ada", password="changed meanwhile")
